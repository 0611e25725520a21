export const VERSION = '0.1.0';
export const API_VERSION = '1.41';
