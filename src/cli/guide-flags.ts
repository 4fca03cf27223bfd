// `meshtv broadcast`'s description of its channel: --category, --language, --description,
// --logo FILE and --schedule FILE, each checked before anything starts, so a bad file is
// refused with its name, line and reason instead of being found out by viewers.

import fs from 'node:fs';
import { UserError } from '../common/errors.js';
import { currentGuide, type GuideOptions, guideTooLarge, readScheduleFile } from '../native/guide-publisher.js';
import { guideFieldsProblem } from '../protocol/guide.js';
import { logoType, MAX_LOGO_BYTES } from '../protocol/logo.js';
import { str, type Values } from './args.js';

export const GUIDE_FLAGS = {
  category: { type: 'string' },
  language: { type: 'string' },
  description: { type: 'string' },
  logo: { type: 'string' },
  schedule: { type: 'string' },
} as const;

/** The guide flags, checked; undefined when none is given (no guide is published). */
export function guideOptions(values: Values): GuideOptions | undefined {
  const category = str(values, 'category');
  const language = str(values, 'language');
  const description = str(values, 'description');
  const logoFile = str(values, 'logo');
  const scheduleFile = str(values, 'schedule');
  if ([category, language, description, logoFile, scheduleFile].every((v) => v === undefined)) return undefined;
  const fields = { category, language, description };
  const problem = guideFieldsProblem(fields);
  if (problem !== undefined) throw new UserError(`--${problem.split(' ')[0]}: ${problem}`);
  const programmes = scheduleFile !== undefined ? scheduleOf(scheduleFile) : undefined;
  const options: GuideOptions = {
    ...(category !== undefined ? { category } : {}),
    ...(language !== undefined ? { language } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(logoFile !== undefined ? { logo: readLogo(logoFile) } : {}),
    ...(scheduleFile !== undefined ? { scheduleFile, programmes } : {}),
  };
  // The id's length is all the size depends on.
  const tooLarge = guideTooLarge(currentGuide('0'.repeat(64), options, programmes ?? [], Number.NEGATIVE_INFINITY));
  if (tooLarge !== undefined) throw new UserError(`--schedule ${scheduleFile}: ${tooLarge}`);
  return options;
}

function scheduleOf(file: string) {
  try {
    return readScheduleFile(file);
  } catch (err) {
    throw new UserError(`--schedule ${(err as Error).message}`);
  }
}

/** A PNG or JPEG logo file, size-limited and checked by its first bytes. */
function readLogo(file: string): Uint8Array {
  let image: Uint8Array;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_LOGO_BYTES) throw new UserError(`--logo ${file}: ${size} bytes is too large (at most ${MAX_LOGO_BYTES})`);
    image = new Uint8Array(fs.readFileSync(file));
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`--logo: cannot read ${file}: ${(err as Error).message}`);
  }
  if (logoType(image) === undefined) throw new UserError(`--logo ${file}: not a PNG or JPEG image`);
  return image;
}
