/**
 * What the flow decoders counted: everything they skipped, held, lost or found odd has a number
 * here, so nothing is silent. One instance per FlowDecoder; plain numeric fields (cheap to bump on
 * the hot path, trivially copied into a report).
 */
export class FlowStats {
  // ---- datagrams ----------------------------------------------------------------------------
  /** UDP payloads offered to the decoder. */
  udpDatagrams = 0;
  /** Recognised as flow export, by protocol. */
  netflow5Datagrams = 0;
  netflow9Datagrams = 0;
  ipfixDatagrams = 0;
  sflowDatagrams = 0;
  /** Neither on a flow port nor shaped like flow export (DNS, BGP keepalives...). */
  notFlow = 0;
  /** UDP payload cut short by the capture's snap length or IP fragmentation. */
  truncatedDatagrams = 0;
  /** Datagrams that were flow export but whose header, sets or samples were broken (counted once each). */
  malformedDatagrams = 0;

  // ---- records ------------------------------------------------------------------------------
  /** Flow records (v5/v9/IPFIX data records of data templates) handed to the callback. */
  flowRecords = 0;
  /** Options data records (sampling, interface names, exporter address...). */
  optionsRecords = 0;
  /** sFlow flow samples (compact and expanded) handed to the callback. */
  flowSamples = 0;
  expandedFlowSamples = 0;
  /** sFlow counter samples (compact and expanded) read, and the generic interface records among them. */
  counterSamples = 0;
  expandedCounterSamples = 0;
  interfaceCounters = 0;

  // ---- templates ----------------------------------------------------------------------------
  templates = 0;
  optionsTemplates = 0;
  /** A template that came again with the same layout. */
  templateRefreshes = 0;
  /** A template id that came again with another layout (the new one replaces the old). */
  templateChanges = 0;
  templateWithdrawals = 0;
  /** Templates dropped to keep the cache inside its bounds (oldest first). */
  templateEvictions = 0;
  /** Templates refused as malformed (overrunning field count, zero record length, bad scope). */
  malformedTemplates = 0;
  /** Fields whose length cannot hold what the element means (a 3-byte IPv4 address): skipped by length. */
  oddFieldLengths = 0;
  /** Enterprise-specific fields in templates (skipped by length, except RFC 5103 reverse counters). */
  enterpriseFields = 0;
  /** IE 154/155 with length 16 (pmacct 1.7.7): decoded as a timeval and flagged. */
  timestampLen16 = 0;
  /** The domain table was full: the least recently seen exporter/domain pair was evicted (with its templates) for a new one. */
  domainOverflow = 0;

  // ---- held data (data before its template) ---------------------------------------------------
  pendingHeld = 0;
  /** Held sets decoded once their template came, and the records they gave. */
  pendingDecodedSets = 0;
  pendingRecords = 0;
  /** Held sets dropped: the hold was full (count or bytes) and they were the oldest. */
  pendingDropped = 0;

  // ---- malformed pieces ---------------------------------------------------------------------
  /** Sets/flowsets with a bad length (shorter than a header, or past the datagram). */
  malformedSets = 0;
  /** Records that ran past their set (variable-length fields that lie). */
  malformedRecords = 0;
  /** sFlow samples or records with bad lengths or absurd counts. */
  malformedSamples = 0;
  /** Sets with an id that is neither a template set nor a data set (1 in IPFIX, 2-255). */
  unknownSets = 0;
  /** sFlow sample and record formats we do not decode (other enterprises, newer formats): skipped by length. */
  unknownSampleFormats = 0;
  unknownRecordFormats = 0;

  // ---- loss ---------------------------------------------------------------------------------
  /** From sequence gaps, in each protocol's own unit. */
  lostNetflow5Flows = 0;
  lostNetflow9Datagrams = 0;
  lostIpfixRecords = 0;
  lostSflowDatagrams = 0;
  /** sFlow flow samples missing by each source's sample sequence number. */
  lostSflowSamples = 0;
  /** Increase of the drop counters sFlow sources report (packets the agent could not sample). */
  sflowDrops = 0;
  /** Sequence numbers that went backwards a little (reordering, duplicates): not loss. */
  sequenceReordered = 0;
  /** Sequence numbers that jumped absurdly or far back (exporter restart): counting restarts there. */
  sequenceResets = 0;
}

/** Datagrams recognised as flow export, of any protocol. */
export function flowDatagrams(f: FlowStats): number {
  return f.netflow5Datagrams + f.netflow9Datagrams + f.ipfixDatagrams + f.sflowDatagrams;
}

/** What the sequence numbers say was lost, each in its protocol's unit (as reports show it). */
export function lostCounts(f: FlowStats): { netflow5_flows: number; netflow9_datagrams: number; ipfix_records: number; sflow_datagrams: number; sflow_samples: number } {
  return {
    netflow5_flows: f.lostNetflow5Flows,
    netflow9_datagrams: f.lostNetflow9Datagrams,
    ipfix_records: f.lostIpfixRecords,
    sflow_datagrams: f.lostSflowDatagrams,
    sflow_samples: f.lostSflowSamples,
  };
}
