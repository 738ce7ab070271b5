export {
  AccessClient,
  AccessClientError,
  type AccessClientOptions,
  type AccessClientStats,
  type Decision,
  type Limits,
  type LimitsAnswer,
} from './access-client';
export { EventStreamParser, type StreamEvent } from './event-stream';
export {
  createRestClient,
  type components,
  type operations,
  type paths,
  type RestClient,
  type RestClientOptions,
  type Schemas,
} from './rest';
