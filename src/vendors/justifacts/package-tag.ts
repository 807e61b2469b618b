/**
 * The Justifacts package tag a customer puts on a Lever job posting (inherited by its opportunities), e.g.
 * `JUSTIFACTS BGC PKG: EmpCod[ID : 13558]`. People type these by hand, so whitespace (including
 * non-breaking spaces from copy-paste) is tolerated anywhere between the parts and the words are matched
 * case-insensitively; the colons and the brackets are required. The code and ID keep their case.
 */

export interface JustifactsPackageTag {
  /** The package code, e.g. `EmpCod`. */
  code: string;
  /** The package ID, e.g. `13558`. */
  id: string;
}

const PACKAGE_TAG = /^\s*JUSTIFACTS\s*BGC\s*PKG\s*:\s*([^\s:[\]]+)\s*\[\s*ID\s*:\s*([^\s:[\]]+)\s*\]\s*$/i;

/** The package code and ID of a Justifacts package tag, or null when the tag is not one. */
export function parsePackageTag(tag: string): JustifactsPackageTag | null {
  const match = PACKAGE_TAG.exec(tag);
  const code = match?.[1];
  const id = match?.[2];
  return code && id ? { code, id } : null;
}

/** The first Justifacts package tag among the tags (in their order), or null when there is none. */
export function findPackageTag(tags: readonly string[]): JustifactsPackageTag | null {
  for (const tag of tags) {
    const parsed = parsePackageTag(tag);
    if (parsed) return parsed;
  }
  return null;
}
