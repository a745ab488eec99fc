import { PatternSyntaxError } from './errors.ts';

/**
 * IP addresses as event-ruler sees them: a string is an address only if it has one of these shapes and then
 * parses as Java's InetAddress would parse it; addresses compare as fixed-length upper-case hex strings
 * (8 digits for IPv4, 32 for IPv6), so a range check is two string comparisons.
 */

const IPV4_SHAPE = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const IPV6_SHAPE = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const MASK_BITS = /^[+-]?[0-9]+$/;
const INT_MAX = 2147483647;

/** An inclusive range of addresses of one family. */
export interface IpRange {
  readonly lower: string;
  readonly upper: string;
}

function hasAddressShape(text: string): boolean {
  return IPV4_SHAPE.test(text) || IPV6_SHAPE.test(text);
}

function toHex(bytes: readonly number[]): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).toUpperCase().padStart(2, '0');
  return hex;
}

function parseIpv4(text: string): number[] | null {
  const parts = text.split('.');
  const bytes: number[] = [];
  for (const part of parts) {
    // Modern JDKs refuse leading zeros as ambiguous (octal or decimal?).
    if (part.length > 1 && part.startsWith('0')) return null;
    if (part.length > 3) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes.push(value);
  }
  return bytes;
}

function parseHexGroups(text: string): number[] | null {
  if (text === '') return [];
  const groups: number[] = [];
  for (const group of text.split(':')) {
    if (!HEX_GROUP.test(group)) return null;
    groups.push(Number.parseInt(group, 16));
  }
  return groups;
}

function parseIpv6(text: string): number[] | null {
  const gap = text.indexOf('::');
  if (gap >= 0 && text.indexOf('::', gap + 1) >= 0) return null;
  let groups: number[];
  if (gap < 0) {
    const all = parseHexGroups(text);
    if (all === null || all.length !== 8) return null;
    groups = all;
  } else {
    const head = parseHexGroups(text.slice(0, gap));
    const tail = parseHexGroups(text.slice(gap + 2));
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const bytes: number[] = [];
  for (const group of groups) bytes.push(group >> 8, group & 0xff);
  // Java turns IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) into plain IPv4 addresses.
  const isIpv4Mapped =
    bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return isIpv4Mapped ? bytes.slice(12) : bytes;
}

function parseAddressBytes(text: string): number[] | null {
  if (IPV4_SHAPE.test(text)) return parseIpv4(text);
  if (IPV6_SHAPE.test(text)) return parseIpv6(text);
  return null;
}

/** The hex form of `text` if it is an IP address literal, else null (event values that are not addresses). */
export function ipAddressHex(text: string): string | null {
  const bytes = parseAddressBytes(text);
  return bytes === null ? null : toHex(bytes);
}

/** A pattern string that is itself an IP address matches that address in any notation. */
export function singleAddressRange(text: string): IpRange | null {
  if (!hasAddressShape(text)) return null;
  const hex = ipAddressHex(text);
  return hex === null ? null : { lower: hex, upper: hex };
}

/** Splits like Java's `String.split("/")`: trailing empty strings are dropped. */
function splitOnSlash(text: string): string[] {
  if (text === '') return [''];
  const parts = text.split('/');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * Parses a `cidr` operand with event-ruler's rules and messages. The lower bound is the address as written
 * (event-ruler does not clear the host bits), the upper bound has every host bit set.
 */
export function parseCidr(text: string): IpRange {
  const parts = splitOnSlash(text);
  if (parts.length !== 2) throw new PatternSyntaxError("Malformed CIDR, one '/' required");
  const [address, maskText] = parts as [string, string];
  const maskBits = Number(maskText);
  if (!MASK_BITS.test(maskText) || Math.abs(maskBits) > INT_MAX) {
    throw new PatternSyntaxError('Malformed CIDR, mask bits must be an integer');
  }
  if (maskBits < 0) throw new PatternSyntaxError('Malformed CIDR, mask bits must not be negative');
  let bytes: number[] | null = [];
  if (hasAddressShape(address)) {
    bytes = parseAddressBytes(address);
    if (bytes === null) throw new PatternSyntaxError(`Invalid IP address: ${address}`);
  }
  if (bytes.length === 4) {
    if (maskBits > 31) throw new PatternSyntaxError('IPv4 mask bits must be < 32');
  } else if (bytes.length === 16) {
    if (maskBits > 127) throw new PatternSyntaxError('IPv6 mask bits must be < 128');
  } else {
    throw new PatternSyntaxError(`Nonstandard IP address: ${address}`);
  }
  const upper = bytes.map((byte, index) => {
    const hostBitsInByte = Math.min(
      8,
      Math.max(0, bytes.length * 8 - maskBits - (bytes.length - 1 - index) * 8),
    );
    return byte | ((1 << hostBitsInByte) - 1);
  });
  return { lower: toHex(bytes), upper: toHex(upper) };
}

export function isInRange(range: IpRange, hex: string): boolean {
  return hex.length === range.lower.length && hex >= range.lower && hex <= range.upper;
}
