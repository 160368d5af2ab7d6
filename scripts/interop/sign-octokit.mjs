// Signs a body (stdin) with GitHub's official @octokit/webhooks-methods and prints the header.
//
// ES modules resolve bare imports from the importing file's folder, so run this as evaluated
// code from the folder that holds node_modules (that is what the Rust interop test does):
//
//   cd "$(dirname "$RELAY_INTEROP_NODE_MODULES")" &&
//     node --input-type=module -e "$(cat scripts/interop/sign-octokit.mjs)" -- SECRET < body
import { sign } from "@octokit/webhooks-methods";

const secret = process.argv[1];
let body = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) body += chunk;
console.log(`x-hub-signature-256: ${await sign(secret, body)}`);
