/** 64-bit values as protobuf decode produces them (long.js Longs), for the tests. */
import protobuf from 'protobufjs/minimal.js';
import type { Nanos } from '../../otlp/index.ts';

/** The generated model's Long type, without importing long.js directly. */
export type Long = Exclude<Nanos, number>;

interface LongClass {
  fromBits(low: number, high: number, unsigned: boolean): Long;
  fromNumber(value: number, unsigned: boolean): Long;
  fromString(value: string, unsigned: boolean): Long;
}

// protobufjs types util.Long as a bare constructor; it is long.js, which has these.
const LongImpl = protobuf.util.Long as unknown as LongClass;

export const u64 = (v: number | string): Long => (typeof v === 'number' ? LongImpl.fromNumber(v, true) : LongImpl.fromString(v, true));
export const i64 = (v: number | string): Long => (typeof v === 'number' ? LongImpl.fromNumber(v, false) : LongImpl.fromString(v, false));
export const longFromBits = (low: number, high: number, unsigned: boolean): Long => LongImpl.fromBits(low, high, unsigned);
