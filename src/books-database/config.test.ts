import { loadBooksDatabaseConfig } from './config';

describe('books-database config', () => {
  it('is books-1 of three on ports 50071–50073 by default, its data under books-database/<id>', () => {
    const config = loadBooksDatabaseConfig({});
    expect(config.id).toBe('books-1');
    expect(config.peers).toEqual({ 'books-1': '127.0.0.1:50071', 'books-2': '127.0.0.1:50072', 'books-3': '127.0.0.1:50073' });
    expect(config.port).toBe(50071);
    expect(config.dataDir).toBe('./data/books-database/books-1');
    expect(config.raft).toEqual({ tickMs: 10, electionTicks: 14, heartbeatTicks: 4, replicationSampleRate: 0.05, snapshotEntries: 10_000 });
    expect(config).toMatchObject({ outcomesRetain: 50_000, seed: true, writeTimeoutMs: 3000 });
  });

  it('takes its id, directory, snapshot threshold and peers from the environment', () => {
    const config = loadBooksDatabaseConfig({
      BOOKS_DATABASE_ID: 'books-3',
      CAUSEWAY_DATA_DIR: '/data',
      BOOKS_DATABASE_SNAPSHOT_ENTRIES: '50',
      RAFT_SNAPSHOT_ENTRIES: '7',
      BOOKS_DATABASE_SEED: 'false',
    });
    expect(config.port).toBe(50073);
    expect(config.dataDir).toBe('/data/books-database/books-3');
    expect(config.raft.snapshotEntries).toBe(50);
    expect(config.seed).toBe(false);
    expect(loadBooksDatabaseConfig({ BOOKS_DATABASE_PEERS: 'x=h:1,y=h:2', BOOKS_DATABASE_ID: 'y' }).port).toBe(2);
  });

  it('refuses an id that is not a peer and malformed peers, naming the variable', () => {
    expect(() => loadBooksDatabaseConfig({ BOOKS_DATABASE_ID: 'books-9' })).toThrow('BOOKS_DATABASE_ID="books-9" is not one of BOOKS_DATABASE_PEERS');
    expect(() => loadBooksDatabaseConfig({ BOOKS_DATABASE_PEERS: 'a=h' })).toThrow('BOOKS_DATABASE_PEERS entry a must look like host:port');
    expect(() => loadBooksDatabaseConfig({ BOOKS_DATABASE_SEED: 'maybe' })).toThrow('BOOKS_DATABASE_SEED');
  });
});
