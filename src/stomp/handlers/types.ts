import type { StompFrame } from '../codec/frame.js';
import type { StompConnection } from '../connection.js';

export type CommandHandler = (connection: StompConnection, frame: StompFrame) => void;
export type HandlerTable = Readonly<Record<string, CommandHandler>>;
