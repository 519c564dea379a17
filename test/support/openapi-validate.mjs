// Validates (or only parses) an OpenAPI document file with @apidevtools/swagger-parser,
// which is ESM-only and so cannot be loaded inside Jest's CommonJS runtime.
// Usage: node openapi-validate.mjs validate|parse <file>. Prints one JSON line:
// {"ok": true, "document": {...}} or {"ok": false, "error": "..."}.
import SwaggerParser from '@apidevtools/swagger-parser';

const [mode, file] = process.argv.slice(2);
try {
  const document = mode === 'validate' ? await SwaggerParser.validate(file) : await SwaggerParser.parse(file);
  process.stdout.write(JSON.stringify({ ok: true, document: mode === 'parse' ? document : undefined }));
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(error && error.message ? error.message : error) }));
}
