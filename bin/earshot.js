#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx (a runtime dependency), so the CLI works
// from a fresh clone with no build step; `npm run build` emits dist/ for library use.
import { register } from "tsx/esm/api";

// Earshot pins AWS SDK versions that support Node 20; their notice about future releases is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv);
