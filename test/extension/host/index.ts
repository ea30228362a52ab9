// extensionTestsPath entry: runs every *.test.js bundle next to this file with mocha inside the
// real extension host. HOST_SUITE (trusted | restricted) picks the suites; the runner sets it.

import * as fs from 'fs';
import * as path from 'path';
import { format } from 'util';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const suite = process.env.COURSE_ILLUSTRATOR_HOST_SUITE ?? 'trusted';
  // The remote extension host's console does not reach the runner: mocha's report also goes
  // to a file the runner follows.
  const report = process.env.COURSE_ILLUSTRATOR_HOST_REPORT;
  if (report) {
    const log = Mocha.reporters.Base.consoleLog;
    Mocha.reporters.Base.consoleLog = (...args: unknown[]) => {
      fs.appendFileSync(report, format(...args) + '\n');
      log(...args);
    };
  }
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec' });
  for (const f of fs.readdirSync(__dirname).sort()) {
    if (!f.endsWith('.test.js')) continue;
    const restricted = f.startsWith('restricted');
    if ((suite === 'restricted') === restricted) mocha.addFile(path.join(__dirname, f));
  }
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} in-host test(s) failed`)) : resolve()));
  });
}
