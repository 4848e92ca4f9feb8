import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { compileGlob, expandBraces, findFiles } from './glob.ts';
import { withTempDir } from './testing.ts';

describe('glob', () => {
  test('expands {a,b} alternatives, nested, and keeps single braces literal', () => {
    assert.deepEqual(expandBraces('/x/{a,b}.log'), ['/x/a.log', '/x/b.log']);
    assert.deepEqual(expandBraces('/x/{a,b{1,2}}/*.log'), ['/x/a/*.log', '/x/b1/*.log', '/x/b2/*.log']);
    assert.deepEqual(expandBraces('/x/{a}.log'), ['/x/{a}.log']);
    assert.throws(() => expandBraces('/{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}'), /expands to more than/);
  });

  test('matches *, ?, ** and classes on whole paths', () => {
    const g = compileGlob('/var/log/**/*.log');
    assert.ok(g.matches('/var/log/a.log'));
    assert.ok(g.matches('/var/log/x/y/a.log'));
    assert.ok(!g.matches('/var/log/a.txt'));
    assert.ok(!g.matches('/var/logs/a.log'));
    const q = compileGlob('/l/app-?.[0-9]');
    assert.ok(q.matches('/l/app-1.5'));
    assert.ok(!q.matches('/l/app-12.5'));
    assert.ok(!q.matches('/l/app-1.x'));
    assert.ok(!compileGlob('/l/*.log').matches('/l/sub/a.log'), '* does not cross /');
    assert.ok(compileGlob('/l/**').matches('/l/sub/deep/a'));
    assert.ok(compileGlob('/l/a+b(1).log').matches('/l/a+b(1).log'), 'regex characters are literal');
  });

  test('finds files by walking only what the pattern needs, with excludes', async () => {
    await withTempDir(async (dir) => {
      await mkdir(join(dir, 'app', 'sub', 'deep'), { recursive: true });
      await mkdir(join(dir, 'other'), { recursive: true });
      for (const f of ['app/a.log', 'app/b.log', 'app/c.txt', 'app/sub/d.log', 'app/sub/deep/e.log', 'other/f.log', 'other/g.log']) {
        await writeFile(join(dir, f), 'x\n');
      }
      await symlink(join(dir, 'other', 'f.log'), join(dir, 'app', 'link.log'));
      const rel = (paths: string[]) => paths.map((p) => p.slice(dir.length + 1));
      assert.deepEqual(rel(await findFiles([`${dir}/app/*.log`])), ['app/a.log', 'app/b.log', 'app/link.log']);
      assert.deepEqual(rel(await findFiles([`${dir}/app/**/*.log`])), ['app/a.log', 'app/b.log', 'app/link.log', 'app/sub/d.log', 'app/sub/deep/e.log']);
      assert.deepEqual(rel(await findFiles([`${dir}/{app,other}/?.log`])), ['app/a.log', 'app/b.log', 'other/f.log', 'other/g.log']);
      assert.deepEqual(rel(await findFiles([`${dir}/*/*.log`], [compileGlob(`${dir}/other/*`), compileGlob('**/b.log')])), ['app/a.log', 'app/link.log']);
      assert.deepEqual(rel(await findFiles([`${dir}/other/f.log`, `${dir}/missing/*.log`])), ['other/f.log']);
    });
  });
});
