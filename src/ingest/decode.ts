import iconv from 'iconv-lite';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The text of an uploaded file and the encoding it was read as. */
export interface DecodedText {
  readonly text: string;
  readonly encoding: 'utf-8' | 'gb18030';
}

/**
 * Decodes an uploaded text file. UTF-8 (with or without BOM) when the bytes are valid UTF-8;
 * otherwise GB18030, a superset of GBK and GB2312, which is what Chinese Excel writes by default.
 * An explicit charset wins when given.
 */
export function decodeText(bytes: Uint8Array, charset?: string): DecodedText {
  const declared = charset?.toLowerCase();
  if (declared && ['gbk', 'gb2312', 'gb18030', 'cp936'].includes(declared)) {
    return { text: iconv.decode(Buffer.from(bytes), 'gb18030'), encoding: 'gb18030' };
  }
  try {
    return { text: utf8.decode(bytes).replace(/^\uFEFF/, ''), encoding: 'utf-8' };
  } catch {
    return { text: iconv.decode(Buffer.from(bytes), 'gb18030'), encoding: 'gb18030' };
  }
}
