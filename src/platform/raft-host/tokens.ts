/**
 * Injection tokens of the Raft host (src/platform/raft-host): what a service's composition root registers so the
 * host's classes (transport, driver, election telemetry) can be resolved. The driver's own tokens (storage, hooks,
 * options) are in driver.ts.
 */
/** This replica's id, one of the peers. */
export const RAFT_NODE_ID = Symbol('RaftNodeId');
/** Every replica of the cluster, this one included: id → host:port. */
export const RAFT_PEER_ADDRESSES = Symbol('RaftPeerAddresses');
/** The service's gRPC definition, whose `Stream` RPC carries Raft messages between its replicas (RaftServiceDefinition). */
export const RAFT_SERVICE_DEFINITION = Symbol('RaftServiceDefinition');
/** Counters the election telemetry adds to (ElectionMetrics). */
export const RAFT_ELECTION_METRICS = Symbol('RaftElectionMetrics');
