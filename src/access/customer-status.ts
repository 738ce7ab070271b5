/**
 * Whether a customer has access: the one list behind the customers table's check constraint, the
 * Customer type and every DTO that names a status (customers, limits, audit snapshots).
 */
export const CUSTOMER_STATUSES = ['enabled', 'disabled'] as const;
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];
