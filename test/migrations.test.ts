import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('drizzle/', () => {
  it('holds a migration for every change in schema/ (drizzle-kit generate has nothing left to write)', () => {
    const out = execFileSync('npx', ['drizzle-kit', 'generate', '--name', 'pending_check'], { encoding: 'utf8', env: { ...process.env } });
    expect(out).toMatch(/No schema changes, nothing to migrate/);
  }, 60_000);
});
