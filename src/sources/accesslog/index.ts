/** Access-log readers: text (nginx/Apache formats) and JSON lines into HttpLogView / HttpRequest. */
export { encodeEscapes } from './escape.js';
export { type Follower, type FollowInfo, type FollowOptions, followAccessLog } from './follow.js';
export { compileApache, compileNginx, TEXT_FORMATS, type TextFormat } from './format.js';
export type { AccessLogFileInfo } from './handler.js';
export { JSON_FORMATS, type JsonFormat, JsonLineMapper } from './json-format.js';
export { BUILTIN_FORMATS, detectFormat, jsonParser, type LineParser, parserFor, textParser } from './parsers.js';
export { type AccessLogInfo, type AccessLogOptions, readAccessLog } from './reader.js';
export { type AccessLogSource, accessLogSource } from './source.js';
export { HttpLogView, MAX_FIELD, Slot } from './view.js';
