import pino from 'pino';
import { config } from './config';

/** Structured JSON logs; each request line carries its request id. */
export const log = pino({ level: config.NODE_ENV === 'test' ? 'silent' : config.LOG_LEVEL, base: { service: 'unichannel' } });
