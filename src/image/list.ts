/** The rows of `tsctr images`, with docker's fields, filters and ordering. */
import { TsctrError } from '../errors.js';
import { splitFilter } from '../util/filters.js';
import { hexOf } from '../paths.js';
import { humanDuration, humanSize } from '../util/units.js';
import { parseReference, familiarName } from './reference.js';
import { findImage, loadImages, readImageConfig } from './store.js';
import type { ImageRecord, ImagesDoc } from './types.js';

export interface ImageRow {
  Containers: string;
  CreatedAt: string;
  CreatedSince: string;
  Digest: string;
  ID: string;
  Repository: string;
  SharedSize: string;
  Size: string;
  Tag: string;
  UniqueSize: string;
  VirtualSize: string;
}

export interface ListOptions {
  all?: boolean;
  digests?: boolean;
  noTrunc?: boolean;
  filters?: string[];
  reference?: string;
}

type Pred = (image: ImageRecord, repo: string, tag: string) => boolean;

/** docker's reference filter uses path.Match: `*` and `?` do not cross `/`. */
export function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${esc}$`);
}

function parseFilters(doc: ImagesDoc, filters: string[]): Pred[] {
  return filters.map((f) => {
    const [key, value] = splitFilter(f);
    switch (key) {
      case 'dangling': {
        if (value !== 'true' && value !== 'false') throw new TsctrError(`invalid filter 'dangling=${value}'`);
        const want = value === 'true';
        return (img) => (img.repoTags.length === 0) === want;
      }
      case 'reference': {
        const re = globToRegExp(value);
        return (_img, repo, tag) => repo !== '<none>' && (re.test(repo) || re.test(`${repo}:${tag}`));
      }
      case 'label': {
        const [k, v] = value.split('=', 2);
        return (img) => {
          const labels = readImageConfig(img).config?.Labels ?? {};
          return k! in labels && (v === undefined || labels[k!] === v);
        };
      }
      case 'before':
      case 'since': {
        const pivot = findImage(doc, value);
        if (!pivot) throw new TsctrError(`No such image: ${value}`);
        const t = Date.parse(pivot.created);
        return key === 'before' ? (img) => Date.parse(img.created) < t : (img) => Date.parse(img.created) > t;
      }
      default:
        throw new TsctrError(`invalid filter '${key}'`);
    }
  });
}

export function listImages(opts: ListOptions = {}, now = Date.now()): ImageRow[] {
  const doc = loadImages();
  const filters = [...(opts.filters ?? [])];
  if (opts.reference) filters.push(`reference=${opts.reference}`);
  const preds = parseFilters(doc, filters);
  const images = Object.values(doc.images).sort((a, b) => Date.parse(b.created) - Date.parse(a.created) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rows: ImageRow[] = [];
  for (const img of images) {
    // Build steps' images are the cache, not something the user made: docker shows them with -a only.
    if (img.intermediate && img.repoTags.length === 0 && !opts.all) continue;
    const pairs: [string, string, string][] = img.repoTags.length
      ? img.repoTags.map((t) => {
          const ref = parseReference(t);
          const repo = familiarName(ref);
          const digest = img.repoDigests.find((d) => d.startsWith(`${ref.domain}/${ref.path}@`));
          return [repo, ref.tag ?? '<none>', digest ? digest.slice(digest.indexOf('@') + 1) : '<none>'];
        })
      : [[
          img.repoDigests[0] ? familiarName(parseReference(img.repoDigests[0])) : '<none>',
          '<none>',
          img.repoDigests[0]?.slice(img.repoDigests[0].indexOf('@') + 1) ?? '<none>',
        ]];
    for (const [repo, tag, digest] of pairs) {
      if (!preds.every((p) => p(img, repo, tag))) continue;
      rows.push({
        Containers: 'N/A',
        CreatedAt: img.created,
        CreatedSince: `${humanDuration(now - Date.parse(img.created))} ago`,
        Digest: digest,
        ID: opts.noTrunc ? img.id : hexOf(img.id).slice(0, 12),
        Repository: repo,
        SharedSize: 'N/A',
        Size: humanSize(img.size),
        Tag: tag,
        UniqueSize: 'N/A',
        VirtualSize: humanSize(img.size),
      });
    }
  }
  return rows;
}
