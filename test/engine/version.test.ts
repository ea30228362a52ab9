import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { VERSION } from '../../src/engine/version';

describe('engine version', () => {
  it('is the package version, so image metadata names the release that made it', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
    assert.strictEqual(VERSION, pkg.version);
  });
});
