/** Names shared by an op and its gradient (tfjs-core style: kernel_names.ts); used as tf.tidy scope names. */
export const ATN_KERNEL = 'Atn';
export const ATN_GRAD = 'AtnGrad';
