export * from './principal';
export * from './names';
export * from './tokens';
export * from './authenticator';
export * from './identity-service';
export * from './access';
export * from './audit-retention';
