// Validates an OpenAPI document (a JSON file given as the one argument) with
// @seriousme/openapi-schema-validator, which checks it against the official OpenAPI JSON schemas,
// and resolves every $ref in it. Prints "valid OpenAPI <version>" and exits 0, or prints the
// errors and exits 1. crates/dlrgate/tests/it/openapi.rs runs it on dlrgate's /openapi.json.
import { readFile } from "node:fs/promises";
import { Validator } from "@seriousme/openapi-schema-validator";

const [file, wantedVersion = "3.1"] = process.argv.slice(2);
if (!file) {
  console.error("usage: node validate.mjs FILE [VERSION]");
  process.exit(2);
}

const specification = JSON.parse(await readFile(file, "utf8"));
const validator = new Validator();
const result = await validator.validate(specification);
if (!result.valid) {
  console.error(JSON.stringify(result.errors, null, 2));
  process.exit(1);
}
if (validator.version !== wantedVersion) {
  console.error(`expected OpenAPI ${wantedVersion}, the document is ${validator.version}`);
  process.exit(1);
}
try {
  validator.resolveRefs();
} catch (error) {
  console.error(`a $ref does not resolve: ${error.message}`);
  process.exit(1);
}
console.log(`valid OpenAPI ${validator.version}`);
