// The hash A1111 writes as `Lora hashes: "name: 0123456789ab"` and civitai looks LoRAs up by:
// the "addnet" hash of sd-webui-additional-networks and kohya's sd-scripts, sha256 of the file
// after its 8-byte length and JSON header (so editing the metadata keeps it), first 12 hex digits
// (A1111's extensions-builtin/Lora/network.py, NetworkOnDisk.set_hash). As A1111 does, a hash
// kohya's trainer stored in the metadata (sshs_model_hash, the same addnet hash) is taken as is.

import * as crypto from 'crypto';
import type { SafetensorsFile } from './safetensors';

/** sha256 (hex) of everything after the header. */
export function addnetHash(file: SafetensorsFile): string {
  return crypto.createHash('sha256').update(file.bytes.subarray(8 + file.headerBytes)).digest('hex');
}

/** The hash to write in the infotext: the stored one when it looks like a sha256, else computed; 12 hex digits. */
export function loraShortHash(file: SafetensorsFile, computed = addnetHash(file)): string {
  const stored = file.metadata.sshs_model_hash;
  const hash = stored && /^[0-9a-f]{64}$/i.test(stored) ? stored.toLowerCase() : computed;
  return hash.slice(0, 12);
}
