'use strict';
/**
 * The fakes' one JSON-lines framing: onLine(line) for every '\n'-terminated line of a readable stream, without the
 * '\n'. A partial last line (no '\n' before the end) is never delivered, as a protocol v1 reader must not.
 */
function onLines(stream, onLine) {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      onLine(line);
    }
  });
}

module.exports = { onLines };
