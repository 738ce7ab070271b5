/**
 * The architecture written down. `npm run depcruise` checks src/ (not its *.spec.ts files, nor
 * test/ and bench/, which may reach anywhere to set up and observe) against these rules; CI runs
 * it after lint. A module is a folder directly under src/; the files at src/ itself (app.module,
 * entities, main, setup-app) are the composition root.
 */
const { readdirSync } = require('node:fs');
const { join } = require('node:path');

/**
 * The only reaches into another module's entities/ (tables and their vocabulary), each a known
 * pair; any new one fails. Entities naming another module's entity in a relation are allowed
 * too (entities/ -> entities/: that is how TypeORM joins them).
 * - holds -> customers: holds/ is the hold workflow over the customer's own rows (customers and
 *   holds tables, one aggregate); customers/ owns the rows, holds/ the use cases. Its
 *   projection also names the EventType it records.
 * - limits -> customers: the limits answer names the hold sources and the customer status.
 * - event-feed, webhooks -> events: the outbox table and its EVENT_TYPES; event-feed is its read
 *   side, webhook subscriptions name its types.
 * - billing, subscriptions -> plans: a plan's price and interval are what is billed.
 * - dunning -> billing: dunning works on open invoices.
 * - webhooks, auth -> audit: the StatusSnapshot type only (auth's is in users.service.ts).
 * Follow-up: move the vocabulary (EVENT_TYPES, HOLD_SOURCES, PlanInterval, StatusSnapshot) out
 * of the entity files, and most of these go.
 */
const SHARED_ENTITIES = {
  holds: ['customers', 'events'],
  limits: ['customers'],
  'event-feed': ['events'],
  webhooks: ['events', 'audit'],
  billing: ['plans'],
  subscriptions: ['plans'],
  dunning: ['billing'],
  auth: ['audit'],
};

function foreignEntityRules() {
  const modules = readdirSync(join(__dirname, 'src'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  return modules.map((module) => ({
    name: 'no-foreign-entities',
    comment:
      "A module uses another module's tables through that module's services and exports, not " +
      'its entities/ (see SHARED_ENTITIES for the known exceptions).',
    severity: 'error',
    from: { path: `^src/${module}/`, pathNot: `^src/${module}/entities/` },
    to: {
      path: '^src/[^/]+/entities/',
      pathNot: [module, ...(SHARED_ENTITIES[module] ?? [])].map((m) => `^src/${m}/entities/`),
    },
  }));
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles-between-modules',
      comment:
        'Modules form layers: config and common at the bottom, database and access above them, ' +
        'then the features. A folder that imports another (through any of its files) is never ' +
        'imported back, directly or through others.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/[^/]+/?$' },
      to: { path: '^src/[^/]+/?$', circular: true },
    },
    {
      name: 'no-circular',
      comment:
        'No file reaches itself through its imports. The one exception is a pair of TypeORM ' +
        'entities of the same entities/ folder that name each other in a relation (both sides ' +
        'typed Relation<>, so neither is read while the other is being defined).',
      severity: 'error',
      from: { pathNot: '^src/[^/]+/entities/[^/]+\\.entity\\.ts$' },
      to: { circular: true },
    },
    {
      name: 'no-entity-cycles-across-folders',
      comment: 'See no-circular: an entity cycle stays inside its own entities/ folder.',
      severity: 'error',
      from: { path: '^src/([^/]+)/entities/' },
      to: { circular: true, pathNot: '^src/$1/entities/' },
    },
    ...foreignEntityRules(),
    {
      name: 'no-composition-root-imports',
      comment:
        'Only entry points (main, the commands, the migration tool) import the files at src/ ' +
        '(app.module, entities, setup-app): a module never depends on the whole application.',
      severity: 'error',
      from: {
        path: '^src/[^/]+/',
        pathNot: ['\\.command\\.ts$', '^src/database/migration-tool\\.ts$'],
      },
      to: { path: '^src/[^/]+\\.ts$' },
    },
  ],
  options: {
    exclude: { path: '\\.spec\\.ts$' },
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a type is a dependency on the module that declares it.
    tsPreCompilationDeps: true,
  },
};
