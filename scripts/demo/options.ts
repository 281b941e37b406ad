import { parseArgs } from 'node:util';

export interface DemoOptions {
  /** Where the running service answers (requests go here). */
  url: string;
  /** The URL vendors' signatures cover: the service's PUBLIC_BASE_URL when it sets one, else `url`. */
  publicUrl: string;
  token: string;
  workspace: string;
}

export const usage = `Usage: npm run demo -- --token <admin token> [--url http://127.0.0.1:3000] [--workspace demo] [--public-url URL]

Runs against a service started with \`npm start\`. The admin token is printed once, on the first
start; it can also come from the MOMENTUM_TOKEN environment variable. --public-url is needed only
when the service runs with PUBLIC_BASE_URL (HubSpot signatures cover the public URL).`;

export class UsageError extends Error {}

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): DemoOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        token: { type: 'string' },
        url: { type: 'string', default: 'http://127.0.0.1:3000' },
        workspace: { type: 'string', default: 'demo' },
        'public-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) throw new UsageError('');
  const token = values.token ?? env.MOMENTUM_TOKEN;
  if (!token) throw new UsageError('An admin token is needed: --token <token> or MOMENTUM_TOKEN.');
  if (!/^[\x21-\x7e]+$/.test(token)) throw new UsageError('The admin token is one word (mtm_…): check what was pasted.');
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(values.workspace)) {
    throw new UsageError(`--workspace "${values.workspace}": 1–63 lowercase letters, digits, "-" or "_".`);
  }
  const url = withoutTrailingSlash(values.url);
  return { url, publicUrl: withoutTrailingSlash(values['public-url'] ?? url), token, workspace: values.workspace };
}
