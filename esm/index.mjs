// ESM entry of atn-kit: the API is compiled to CommonJS (dist/api/index.js); this re-exports it by name.
import api from '../dist/api/index.js';

export const { checkAtn, expectConforms, firstProblem, targetFromFunctions, runCampaign, CHECKS } = api;
export default api;
