export * from './billable-actions';
export * from './usage-reader';
export * from './cloud-usage';
export * from './billing';
export * from './prices';
export * from './invoice';
export * from './billing-report';
export * from './report-server';
