/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: every
 * line must be a `# HELP`, a `# TYPE` or a sample `name{label="value",...} value`, every sample
 * must belong to the family declared before it, label values must be properly escaped, no
 * series may appear twice, and a histogram's buckets must be cumulative with `+Inf` equal to
 * its `_count`. It throws on the first violation, naming the line.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  let current: Family | undefined;
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('the exposition must end with a newline');
  lines.forEach((line, index) => {
    const where = `line ${index + 1}: ${line.slice(0, 120)}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!match) return; // other comments are allowed
      const [, kind, name, rest] = match;
      if (!NAME.test(name)) throw new Error(`bad metric name, ${where}`);
      let family = families.get(name);
      if (!family) {
        family = { name, type: 'untyped', help: '', samples: [] };
        families.set(name, family);
      } else if (current !== family) {
        throw new Error(`family ${name} declared twice, ${where}`);
      }
      current = family;
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`bad type, ${where}`);
        family.type = rest as Family['type'];
      } else {
        family.help = rest;
      }
      return;
    }
    const sample = parseSample(line, where);
    const owner = current && ownerOf(current, sample.name) ? current : undefined;
    if (!owner) throw new Error(`sample outside its family, ${where}`);
    const key = `${sample.name}{${Object.entries(sample.labels).sort().map(([k, v]) => `${k}=${v}`).join(',')}}`;
    if (seen.has(key)) throw new Error(`duplicate series, ${where}`);
    seen.add(key);
    owner.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function ownerOf(family: Family, sampleName: string): boolean {
  if (sampleName === family.name) return family.type !== 'histogram';
  if (family.type === 'histogram') return [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`].includes(sampleName);
  if (family.type === 'summary') return [`${family.name}_sum`, `${family.name}_count`].includes(sampleName);
  return false;
}

function parseSample(line: string, where: string): Sample {
  const nameEnd = line.search(/[{ ]/);
  if (nameEnd <= 0) throw new Error(`bad sample, ${where}`);
  const name = line.slice(0, nameEnd);
  if (!NAME.test(name)) throw new Error(`bad metric name, ${where}`);
  const labels: Record<string, string> = {};
  let i = nameEnd;
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const eq = line.indexOf('=', i);
      const labelName = line.slice(i, eq);
      if (eq === -1 || !LABEL_NAME.test(labelName) || line[eq + 1] !== '"') throw new Error(`bad label, ${where}`);
      let value = '';
      let j = eq + 2;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] !== '\\') {
          value += line[j];
          continue;
        }
        const next = line[++j];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`bad escape in a label value, ${where}`);
      }
      if (j >= line.length) throw new Error(`unterminated label value, ${where}`);
      if (labelName in labels) throw new Error(`label ${labelName} twice, ${where}`);
      labels[labelName] = value;
      i = j + 1;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`bad label list, ${where}`);
    }
    i++;
  }
  const rest = line.slice(i).trim().split(' ');
  if (line[i] !== ' ' || rest.length > 2) throw new Error(`bad sample value, ${where}`);
  // As Prometheus (Go's ParseFloat): NaN and Inf in any case.
  const word = rest[0].toLowerCase();
  const value = word === '+inf' || word === 'inf' ? Infinity : word === '-inf' ? -Infinity : word === 'nan' ? NaN : Number(rest[0]);
  if (Number.isNaN(value) && word !== 'nan') throw new Error(`bad sample value, ${where}`);
  return { name, labels, value };
}

function checkHistogram(family: Family): void {
  const series = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let entry = series.get(key);
    if (!entry) series.set(key, (entry = { buckets: [] }));
    if (sample.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      entry.buckets.push([le === '+Inf' ? Infinity : Number(le), sample.value]);
    } else if (sample.name.endsWith('_count')) {
      entry.count = sample.value;
    }
  }
  for (const [key, { buckets, count }] of series) {
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i][0] > buckets[i - 1][0]) || buckets[i][1] < buckets[i - 1][1]) throw new Error(`${family.name}${key}: buckets not cumulative`);
    }
    if (buckets.at(-1)?.[0] !== Infinity || buckets.at(-1)?.[1] !== count) throw new Error(`${family.name}${key}: +Inf bucket is not the count`);
  }
}

/** The samples of a family whose labels include `labels`. */
export function select(families: Map<string, Family>, sampleName: string, labels: Record<string, string> = {}): Sample[] {
  const family = families.get(sampleName.replace(/_(bucket|sum|count)$/, '')) ?? families.get(sampleName);
  return (family?.samples ?? []).filter((s) => s.name === sampleName && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample matching, 0 when there is none yet. */
export function valueOf(families: Map<string, Family>, sampleName: string, labels: Record<string, string> = {}): number {
  const found = select(families, sampleName, labels);
  if (found.length > 1) throw new Error(`${sampleName} ${JSON.stringify(labels)} matches ${found.length} series`);
  return found[0]?.value ?? 0;
}
