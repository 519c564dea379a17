// Tests run against the servers named by DATABASE_URL and REDIS_URL when set
// (CI sets both), and otherwise against in-memory embedded PostgreSQL and the
// in-process queue. Logs stay quiet unless TEST_LOG_LEVEL says otherwise: test
// apps keep their warnings and errors for a failing test (test/support/test-log.ts).
process.env.LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'silent';
