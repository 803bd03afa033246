/**
 * atn-kit's tfjs implementation: the ATN op and its gradient, the streaming form, LN, the backend switch, the protocol
 * target (`atn serve --target impl`) and the ATN-LSTM (impl/lstm.ts).
 */
export { initBackend, requestedBackend, BACKENDS, BackendError, type BackendName } from './backend';
export { atn, ATN_KERNEL, type AtnOptions } from './ops/atn';
export { atnGraph } from './ops/atn_graph';
export { AtnStream, type AtnStreamOptions } from './ops/atn_stream';
export { layerNorm, type LnOptions } from './ln';
export { createImplTarget, IMPL_NAME, type ImplTargetOptions } from './target';
export { checkDegenerate } from './ops/atn_window';
export * from './lstm';
