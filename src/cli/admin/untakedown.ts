import { requireArgs } from '../command.ts';
import { printJson, type AdminCommand } from './admin-command.ts';
import { setTakedown } from './takedown.ts';

export const untakedown: AdminCommand = {
  name: 'untakedown',
  synopsis: '<did>',
  summary: 'lift a takedown',
  async run(input) {
    requireArgs(input, 1);
    printJson(input.io, await setTakedown(input.extra.admin, input.args[0], { applied: false }));
  },
};
