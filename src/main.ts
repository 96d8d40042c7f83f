import { parseArgs } from 'node:util';
import {
  CliError,
  importCommand,
  institutionsImportCommand,
  keysCreateCommand,
  keysListCommand,
  keysRevokeCommand,
  migrateCommand,
  notifyTestCommand,
  rulesCheckCommand,
  rulesTestCommand,
} from './cli/commands.js';
import { rulesReplayCommand } from './cli/replay.command.js';
import { ConfigError, loadConfig } from './config/config.js';
import { createLogger } from './logger.js';

// The HTTP stack (express, the OpenAPI document, the demo) loads only for the commands that need it:
// about half a second of start-up a scripted `import` or `keys` command need not pay.
const serving = () => import('./cli/serve.command.js');

const USAGE = `usage: riskwatch <command>
  serve                          run the service (default)
  demo                           load the Quanzhou demo sample, then serve
  migrate                        apply database migrations
  rules check [paths…]           validate rules folders or files: catalog, rule files, routes, rule tests
                                 (default: RULES_DIR)
  rules test <paths…>            run rule unit tests (*.test.yaml files, or the folders holding them)
  rules replay --from YYYY-MM --to YYYY-MM [--rules DIR] [--institution CODE] [--format text|json]
                                 what a rules folder would have done over stored history; writes nothing
  keys create --role R --name N [--institution CODE] [--email ADDRESS]
  keys list | keys revoke <id>
  institutions import <file.csv|file.json>
  import <file> [--sheet NAME]   import a CSV or XLSX file (any institutions) as an admin, atomically
  notify test --to ADDRESS [--lang zh|en]
                                 send a sample digest through the configured SMTP relay (or .eml files)
  openapi                        print the OpenAPI document`;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      role: { type: 'string' },
      name: { type: 'string' },
      institution: { type: 'string' },
      email: { type: 'string' },
      sheet: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      rules: { type: 'string' },
      format: { type: 'string' },
      lang: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel);
  const [command = 'serve', sub, arg] = positionals;
  const print = (text: string) => console.log(text);
  switch (
    `${command}${sub && ['keys', 'rules', 'institutions', 'notify'].includes(command) ? ` ${sub}` : ''}`
  ) {
    case 'serve':
      return (await serving()).serve(config, logger);
    case 'demo': {
      const { loadDemo } = await import('./cli/demo.command.js');
      return (await serving()).serve(config, logger, async (services) => {
        const loaded = await loadDemo(services);
        logger.info(loaded, 'demo data loaded');
      });
    }
    case 'migrate':
      return print(await migrateCommand(config));
    case 'rules check': {
      const paths = positionals.slice(2);
      return print(rulesCheckCommand(paths.length > 0 ? paths : [config.rulesDir], config.rulesDir));
    }
    case 'rules test':
      return print(rulesTestCommand(positionals.slice(2)));
    case 'rules replay':
      return print(await rulesReplayCommand(config, logger, values));
    case 'keys create':
      return print(await keysCreateCommand(config, logger, values));
    case 'keys list':
      return print(await keysListCommand(config, logger));
    case 'keys revoke':
      return print(await keysRevokeCommand(config, logger, arg));
    case 'institutions import':
      return print(await institutionsImportCommand(config, logger, arg));
    case 'import':
      return print(await importCommand(config, logger, sub, { sheet: values.sheet }));
    case 'openapi': {
      const { buildOpenApiDocument } = await import('./http/openapi.js');
      return print(JSON.stringify(buildOpenApiDocument(config.publicUrl), null, 2));
    }
    case 'notify test':
      return print(await notifyTestCommand(config, logger, { to: values.to ?? arg, lang: values.lang }));
    default:
      throw new CliError(USAGE, 2);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof CliError) {
    console.error(error.message);
    process.exit(error instanceof CliError ? error.exitCode : 78);
  }
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
