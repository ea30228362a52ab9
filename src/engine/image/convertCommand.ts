// `course-illustrator convert heart.png heart.jpg [--quality N] [--lossless] [--overwrite]`: the
// image again as PNG, JPEG or WebP (by the destination's extension), its parameters and XMP
// label kept (engine/convert); one JSON line on stdout ({ path, bytes, format, width, height }).

import { formatOfFileName, validateConvertParams } from '../../core/convertProtocol';
import { ValidationError } from '../../core/validate';
import { numberArg, parseArgs } from '../cliArgs';
import { badInput } from '../errors';
import { convertImage } from './convertImage';

interface Io {
  stdout: NodeJS.WritableStream;
}

export async function runConvertCommand(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, { values: ['quality'], flags: ['lossless', 'overwrite'] }, 'convert');
  const [source, dest, ...extra] = args.positionals;
  if (!source || !dest || extra.length > 0) throw badInput('convert needs a source and a destination: course-illustrator convert heart.png heart.jpg [--quality 90].');
  const format = formatOfFileName(dest);
  if (!format) throw badInput(`Cannot tell the format from "${dest}"; end it in .png, .jpg, .jpeg or .webp.`);
  let params;
  try {
    params = validateConvertParams({
      source, dest, format,
      quality: numberArg(args, 'quality', true),
      lossless: args.flags.has('lossless') ? true : undefined,
      overwrite: args.flags.has('overwrite'),
    });
  } catch (err) {
    throw badInput(err instanceof ValidationError ? `${err.message}.` : String(err));
  }
  io.stdout.write(JSON.stringify(await convertImage(params, 'pass --overwrite or choose another name')) + '\n');
  return 0;
}
