/** One L3/L4 attack as the detector follows it: its lifecycle state, its victim, its sample and its signature. */
import type { Vector } from '../../model/attack.js';
import type { AttackState } from '../core/lifecycle.js';
import type { MeasuredTrack, Measurement } from './measurement.js';
import type { VictimSample } from './sample.js';
import type { Signature } from './signature.js';

export interface Track extends AttackState, MeasuredTrack {
  /** The victim as text: an address, or a prefix `a/len`. */
  key: string;
  isPrefix: boolean;
  fam: 4 | 6;
  /** Address or prefix bytes (IPv4 in the first 4). */
  addr: Uint8Array;
  prefixLen: number;
  vector: Vector;
  /** The class's learnt rate for this victim before the attack (pps; 0 when none). */
  baseRate: number;
  /** What the victim received from detection on (seeded with the window reservoirs). */
  sampler: VictimSample;
  /** The signature, fixed once the attack has lasted the lock windows (or at the end). */
  signature: Signature | null;
  /** Its measurement over the capture (live from lockSec on, caught up before). */
  measurement: Measurement<Track> | null;
  /** The source-list alternative (signature.ts sourceListSignature) and its measurement, when the sources repeat. */
  listSignature: Signature | null;
  listMeasurement: Measurement<Track> | null;
  /** Absolute second from which `measurement` measured the packets live (Infinity: none). */
  lockSec: number;
}
