/**
 * The clause ids of the normative spec (spec/atn.md). Every check, error and report cites one of these,
 * so that a failure points at a sentence. The ids are stable: never renumber, only add.
 */
export const CLAUSES = {
  // ATN-1 Definitions
  'ATN-1.1': 'Layout: a is [T][B][H], time-major; statistics never mix samples',
  'ATN-1.2': 'Window W_t = {max(1,t-k+1)..t}, n_t = |W_t|, N = n_t*H',
  'ATN-1.3': 'Statistics: mu_t is the mean, var_t the biased variance of the N window entries',
  'ATN-1.4': 'Output y_t = g*(a_t - mu_t)/sqrt(var_t + eps) + b',
  'ATN-1.5': 'Gain g and bias b per feature (length H); defaults ones and zeros',
  'ATN-1.6': 'Warm-up: for t < k the window holds the n_t steps available, no padding',
  'ATN-1.7': 'Sequences are independent: each request and sequence starts with an empty window',
  // ATN-2 Layer normalization
  'ATN-2.1': 'LN is ATN with k = 1 (ln.forward over x[B][H])',
  // ATN-3 ATN-LSTM
  'ATN-3.1': 'Preactivations a^x_t = x_t W_xh + b_x and a^h_t = h_{t-1} W_hh + b_h',
  'ATN-3.2': 'Each preactivation is normalized by its own ATN (own window, own gain/bias of length 4H)',
  'ATN-3.3': 'Gates [f,i,o,g] = split(ATN_x(a^x_t) + ATN_h(a^h_t)) in that order',
  'ATN-3.4': 'Cell c_t = sigmoid(f)*c_{t-1} + sigmoid(i)*tanh(g)',
  'ATN-3.5': 'Output h_t = sigmoid(o)*tanh(ATN_c(c_t)), ATN_c of width H over the window of cell states',
  'ATN-3.6': 'Standard initialisation (informative)',
  // ATN-4 Gradients
  'ATN-4.1': 'Closed-form VJP of ATN: y_t sends gradient into every a_s of its window',
  'ATN-4.2': 'dgain and dbias',
  'ATN-4.3': 'ATN-LSTM gradients by backpropagation through time',
  // ATN-5 Theorems
  'ATN-5.1': 'T1: k = 1 equals LN',
  'ATN-5.2': 'T2: ATN_eps(d*a) = ATN_{eps/d^2}(a); exact invariance when eps = 0; ATN-LSTM weight scaling',
  'ATN-5.3': 'T3: gradients w.r.t. weights at d*W equal (1/d) times those at W (eps = 0)',
  'ATN-5.4': 'T4: adding a constant to every entry of a window leaves y_t unchanged; VJP contributions sum to 0',
  'ATN-5.5': 'T5: with eps = 0, |(a_t^i - mu_t)/sigma_t| <= sqrt(N - 1)',
  'ATN-5.6': 'T6: locality: y_t depends on a_{t-k+1..t} of its own sample only',
  'ATN-5.7': 'T7: k >= T gives prefix (cumulative) statistics',
  'ATN-5.8': 'T8: per-time-step shift invariance of LN does not carry over for k > 1',
  // ATN-6 Input validity and errors
  'ATN-6.1': 'k is a positive integer',
  'ATN-6.2': 'eps is finite and non-negative',
  'ATN-6.3': 'Arrays are non-empty and rectangular with the shapes the op requires',
  'ATN-6.4': 'Every input entry is finite',
  'ATN-6.5': 'gain and bias have length H',
  'ATN-6.6': 'A window with var_t + eps = 0 is an error (degenerate window)',
  'ATN-6.7': 'dtype is one the target supports',
  'ATN-6.8': 'ATN-LSTM parameter shapes agree with x, h0, c0',
  'ATN-6.9': 'Size limits: requests over the documented limits are refused',
  'ATN-6.10': 'Overflow on rounding: entries that round to Infinity in the dtype are refused; overflowing results are the rounded Infinity',
  'ATN-6.11': 'Work limit: a request whose work (spec/limits.ts workOf) exceeds the limit is refused with too_large',
  // ATN-7 Tolerance policy
  'ATN-7.1': 'Comparison rule: exact reference on the dtype-rounded inputs, per-element derived bound',
  'ATN-7.2': 'Forward tolerance for ATN and LN',
  'ATN-7.3': 'VJP tolerance for ATN (da, dgain, dbias)',
  'ATN-7.4': 'ATN-LSTM tolerance by running error analysis (forward and BPTT)',
  'ATN-7.5': 'Metamorphic comparisons: two target outputs differ by at most the sum of their tolerances',
  'ATN-7.7': 'Fast oracle: double-double evaluation of the reference with a rigorous running error bound',
  'ATN-7.8': 'Oracle choice: the fast value only when it certifies the same double as the exact reference, else exact',
  'ATN-7.9': 'Verdicts by bracket: a value the fast oracle cannot round is judged for every double of its bracket, else exact',
  // ATN-8 Protocol v1
  'ATN-8.1': 'JSON Lines over stdin/stdout, one response per request line, in order',
  'ATN-8.2': 'Request and response envelopes',
  'ATN-8.3': 'Numbers: JSON numbers are exact doubles; non-finite values travel as strings',
  'ATN-8.4': 'dtypes float32, float64 and (reference only) decimal',
  'ATN-8.5': 'Ops and their arguments and results',
  'ATN-8.6': 'Errors: code, clause, message; the server keeps serving',
  'ATN-8.7': 'hello names the target, its version, ops and dtypes',
  'ATN-8.8': 'Capabilities: hello may declare the k range and eps values served; campaigns fit cases and skip the rest',
  'ATN-8.10': 'What a campaign keeps of an untrusted target: own keys, bounded records, marked stand-in answers',
  'ATN-8.11': 'Ports that stop answering: whole session ended, no waiting on held pipes, circuit breaker, could not run',
  'ATN-8.12': 'What reaches the reader: controls and bidi escaped, strict flags, output folder checked first',
  // ATN-9 Conformance levels and verdicts
  'ATN-9.1': 'Levels core, extended range and protocol; every check belongs to one',
  'ATN-9.2': 'The core domain: data magnitudes 1e-6..1e6, eps >= 0, windows not near-degenerate',
  'ATN-9.3': 'A verdict per level; --level chooses what gates the exit status',
  'ATN-9.4': 'The extended range: 1e+-30 scales, subnormals, mixed magnitudes, eps = 0 near-degenerate windows',
  'ATN-9.5': 'Problems: failures grouped by the regime they share, re-run with it set aside',
  'ATN-9.6': 'Flush-to-zero mode: subnormal inputs and exact results set aside',
  'ATN-9.7': 'Counterexamples shrunk while unmistakable; the first failure shown beside',
  'ATN-9.8': 'Every check names each clause it tests',
  'ATN-9.9': 'Coverage: the verdict names the ops served and not served',
} as const;

export type ClauseId = keyof typeof CLAUSES;

export function clauseTitle(id: ClauseId): string {
  return CLAUSES[id];
}
