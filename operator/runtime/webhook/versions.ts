/**
 * The order of record versions lives in operator/lib/versions.ts, since the intake's `/match`
 * (gap detection) compares versions exactly as the workers' stale-event guard does.
 */
export { isNewerVersion } from '../../lib/versions.ts';
