/**
 * Quantiles of explicit-bucket histograms, computed as Prometheus' histogram_quantile does:
 * find the bucket holding the rank, then interpolate linearly inside it, taking 0 as the
 * lower edge of the first bucket (when its upper bound is positive) and answering the
 * highest finite bound when the rank falls in the +Inf bucket.
 */

/**
 * `counts` has one entry per bucket (not cumulative): `bounds.length + 1` of them, the last
 * being the +Inf bucket; `q` in (0, 1). NaN when there are no observations or no finite bound.
 */
export function histogramQuantile(q: number, bounds: readonly number[], counts: readonly number[]): number {
  const n = counts.length;
  if (n < 2 || bounds.length !== n - 1) return NaN;
  let total = 0;
  for (let i = 0; i < n; i++) total += counts[i];
  if (!(total > 0)) return NaN;
  let rank = q * total;
  let below = 0;
  for (let i = 0; i < n - 1; i++) {
    const cumulative = below + counts[i];
    if (cumulative >= rank) {
      const upper = bounds[i];
      if (i === 0 && upper <= 0) return upper;
      const lower = i === 0 ? 0 : bounds[i - 1];
      rank -= below;
      return lower + (upper - lower) * (rank / counts[i]);
    }
    below = cumulative;
  }
  return bounds[n - 2];
}

export interface BucketLayout {
  bounds: number[];
  counts: number[];
}

/**
 * Merges histograms whose bucket bounds differ (a service changed its buckets, or two
 * services use different ones) onto the union of their bounds. Each source contributes, at
 * every union bound, its cumulative count at its own largest bound not above it: exact
 * where the layouts agree, a slight underestimate of the CDF between bounds where they don't.
 */
export function mergeLayouts(layouts: readonly BucketLayout[]): BucketLayout {
  if (layouts.length === 1) return layouts[0];
  const bounds = [...new Set(layouts.flatMap((l) => l.bounds))].sort((a, b) => a - b);
  const cumulative: number[] = Array.from({ length: bounds.length + 1 }, () => 0);
  for (const layout of layouts) {
    let own = 0;
    let running = 0;
    for (let u = 0; u < bounds.length; u++) {
      while (own < layout.bounds.length && layout.bounds[own] <= bounds[u]) running += layout.counts[own++];
      cumulative[u] += running;
    }
    let total = 0;
    for (const c of layout.counts) total += c;
    cumulative[bounds.length] += total;
  }
  const counts = cumulative.map((c, i) => c - (i === 0 ? 0 : cumulative[i - 1]));
  return { bounds, counts };
}
