/** Flow sources: NetFlow v5/v9, IPFIX and sFlow v5 decoders, and the reader over captures of them. */
export { type FlowCaptureInfo, type FlowReadOptions, type FlowSource, feedPacket, flowCaptureSource, readFlowCapture } from './capture-source.js';
export { FlowDecoder, type FlowDecoderOptions, flowPortKind, sniffFlow } from './datagram.js';
export { CounterView, FlowFlag, FlowKind, FlowView, IfFormat } from './record-view.js';
export { isFlowExport } from './sniff-capture.js';
export { FlowStats, flowDatagrams, lostCounts } from './stats.js';
export { toFlowRecord } from './to-record.js';
