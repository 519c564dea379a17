import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { DomainError } from '../http/domain-error';
import { DashboardError } from './dashboard.errors';

/** One file the page loads, under its content-hashed name. */
export interface DashboardAsset {
  name: string;
  type: string;
  content: Buffer;
}

/**
 * Where the page's own files are: next to this file, both in src/ (tests run
 * the TypeScript through SWC) and in dist/src/ (scripts/copy-assets.js copies
 * them there after tsc, which copies only what it compiles).
 */
export const ASSETS_DIR = join(__dirname, 'assets');

/** The sources of the page's assets: its own script and style, and uPlot's files served from the npm package (reports.md 8.1). */
function sources(): { logical: string; path: string; type: string }[] {
  const uplot = join(dirname(require.resolve('uplot/package.json')), 'dist');
  return [
    { logical: 'uPlot.js', path: join(uplot, 'uPlot.iife.min.js'), type: 'application/javascript; charset=utf-8' },
    { logical: 'uPlot.css', path: join(uplot, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
    { logical: 'dashboard.js', path: join(ASSETS_DIR, 'dashboard.js'), type: 'application/javascript; charset=utf-8' },
    { logical: 'dashboard.css', path: join(ASSETS_DIR, 'dashboard.css'), type: 'text/css; charset=utf-8' },
    { logical: 'favicon.svg', path: join(ASSETS_DIR, 'favicon.svg'), type: 'image/svg+xml' },
  ];
}

/** `dashboard.js` → `dashboard.<12 hex of its SHA-256>.js`: a changed file gets a new name, so it may be cached for ever. */
export function hashedName(logical: string, content: Buffer): string {
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 12);
  const dot = logical.lastIndexOf('.');
  return `${logical.slice(0, dot)}.${hash}${logical.slice(dot)}`;
}

/**
 * The page and its files, read once at start: the page names each asset by
 * its hashed name (`{{asset:dashboard.js}}` in index.html), so a browser
 * that holds an old page never mixes it with a new script.
 */
@Injectable()
export class DashboardAssetsService {
  private readonly assets = new Map<string, DashboardAsset>();
  readonly page: string;

  constructor() {
    const urls = new Map<string, string>();
    for (const source of sources()) {
      if (!existsSync(source.path)) throw new Error(`dashboard asset missing: ${source.path} (run npm run build, which copies src/dashboard/assets)`);
      const content = readFileSync(source.path);
      const name = hashedName(source.logical, content);
      this.assets.set(name, { name, type: source.type, content });
      urls.set(source.logical, `/dashboard/assets/${name}`);
    }
    this.page = readFileSync(join(ASSETS_DIR, 'index.html'), 'utf8').replace(/\{\{asset:([^}]+)\}\}/g, (_match, logical: string) => {
      const url = urls.get(logical);
      if (!url) throw new Error(`index.html names an unknown asset ${logical}`);
      return url;
    });
  }

  /** The asset under its hashed name; any other name is a 404. */
  asset(name: string): DashboardAsset {
    const asset = this.assets.get(name);
    if (!asset) throw new DomainError(DashboardError.AssetNotFound, `no dashboard asset ${name}`);
    return asset;
  }

  /** Every hashed name, for tests and the page. */
  names(): string[] {
    return [...this.assets.keys()];
  }
}
