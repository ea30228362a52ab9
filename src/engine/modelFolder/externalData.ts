// Which external weight files an ONNX graph refers to, and how many bytes of each it reads,
// found without an ONNX parser: TensorProto.external_data holds StringStringEntryProto
// {key, value} pairs, serialized as 0x0a <len> key 0x12 <len> value. Large exports (a UNet over
// 2 GB) keep their weights in weights.pb or model.onnx_data; checking those before ORT loads the
// graph turns "External data path does not exist" into "download this file again".

export interface ExternalDataRef {
  /** Relative to the folder of the .onnx file, as written in the graph. */
  location: string;
  /** Bytes the file must hold at least: the largest offset + length read from it (0 if unknown). */
  bytesNeeded: number;
}

const KEYS = ['location', 'offset', 'length'] as const;
type Key = (typeof KEYS)[number];

export function externalDataRefs(model: Uint8Array): ExternalDataRef[] {
  const buf = Buffer.from(model.buffer, model.byteOffset, model.byteLength);
  const hits: { at: number; key: Key; value: string }[] = [];
  for (const key of KEYS) {
    const pattern = Buffer.concat([Buffer.from([0x0a, key.length]), Buffer.from(key, 'ascii'), Buffer.from([0x12])]);
    for (let at = buf.indexOf(pattern); at >= 0; at = buf.indexOf(pattern, at + 1)) {
      const value = readString(buf, at + pattern.length);
      if (value !== undefined) hits.push({ at, key, value });
    }
  }
  hits.sort((a, b) => a.at - b.at);
  // Entries of one tensor are contiguous and onnx writes "location" first.
  const need = new Map<string, number>();
  let current: { location: string; offset: number; length: number } | undefined;
  const flush = () => {
    if (!current) return;
    const end = Number.isFinite(current.offset + current.length) ? current.offset + current.length : 0;
    need.set(current.location, Math.max(need.get(current.location) ?? 0, end));
  };
  for (const h of hits) {
    if (h.key === 'location') {
      flush();
      current = { location: h.value, offset: 0, length: 0 };
    } else if (current) {
      current[h.key] = Number(h.value);
    }
  }
  flush();
  return [...need].map(([location, bytesNeeded]) => ({ location, bytesNeeded }));
}

function readString(buf: Buffer, at: number): string | undefined {
  let len = 0;
  let shift = 0;
  let i = at;
  for (; i < buf.length && shift < 35; i++, shift += 7) {
    len |= (buf[i] & 0x7f) << shift;
    if (!(buf[i] & 0x80)) break;
  }
  i++;
  if (len <= 0 || len > 4096 || i + len > buf.length) return undefined;
  return buf.toString('utf8', i, i + len);
}
