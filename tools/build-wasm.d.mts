/** Types of build-wasm.mjs (the kernel test imports build()). */
export function build(): Promise<string>;
