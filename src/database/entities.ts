import { StaffUser } from '../auth/entities/staff-user.entity';
import { Customer } from '../customers/entities/customer.entity';

/** Every entity of the service. The migration check compares exactly these with the schema. */
export const entities = [StaffUser, Customer];
