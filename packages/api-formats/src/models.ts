// Model aliasing: the Bedrock, Vertex and Anthropic names of one model reduce to one key.
//
// us.anthropic.claude-sonnet-4-5-20250929-v1:0, arn:aws:bedrock:...:inference-profile/<that>,
// claude-sonnet-4-5@20250929 and claude-sonnet-4-5-20250929 all become
// `claude-sonnet-4-5-20250929`, so a routing table lists a model once.

import { ConfigError } from '@claude-key/core';

/** Cross-region inference-profile prefixes Bedrock puts before `anthropic.`. */
const BEDROCK_GEO_PREFIX = /^(?:[a-z]{2,6}(?:-[a-z]+)?\.)?anthropic\./;
const BEDROCK_VERSION_SUFFIX = /-v\d+(?::\d+)?$/;

/** The routing key for a client's model name; unknown shapes come back lower-cased and otherwise unchanged. */
export function canonicalModelKey(name: string): string {
  let key = name.trim().toLowerCase();
  // A foundation-model or inference-profile ARN ends in the id we want. Application inference
  // profiles end in an opaque id; those stay whole and need an explicit alias.
  const arn = /^arn:aws[a-z-]*:bedrock:[^:]*:[^:]*:(foundation-model|inference-profile)\/(.+)$/.exec(key);
  if (arn) key = arn[2]!;
  if (BEDROCK_GEO_PREFIX.test(key)) return key.replace(BEDROCK_GEO_PREFIX, '').replace(BEDROCK_VERSION_SUFFIX, '');
  // Vertex separates the version date with `@`.
  return key.replace('@', '-');
}

export interface ModelGroup {
  /** The group's name, e.g. `claude-sonnet-4-5`; also matched itself. */
  name: string;
  /** Every other name clients use for it, in any of the three spellings. */
  aliases?: string[];
}

/** Builds a lookup from any client spelling to its group's name. Two groups claiming one key is a ConfigError. */
export function createModelResolver(groups: ModelGroup[]): (clientModel: string) => string | undefined {
  const byKey = new Map<string, string>();
  for (const group of groups) {
    for (const name of [group.name, ...(group.aliases ?? [])]) {
      const key = canonicalModelKey(name);
      const owner = byKey.get(key);
      if (owner !== undefined && owner !== group.name) {
        throw new ConfigError(`model name ${name} belongs to both ${owner} and ${group.name}`, { hint: 'give each model name to one group' });
      }
      byKey.set(key, group.name);
    }
  }
  return (clientModel) => byKey.get(canonicalModelKey(clientModel));
}
