/**
 * RFC 7235 challenges: `Bearer realm="...",service="...",scope="repository:a:pull,push", Basic realm="x"`.
 * A registry's 401 says where to get a token; one comma-split too many and the scope is wrong.
 */
export interface Challenge {
  /** Lowercased: 'bearer', 'basic'... */
  scheme: string;
  /** Parameter names lowercased, values as sent (unquoted). */
  params: Record<string, string>;
  /** The token68 form (`Negotiate YIIB...`), when the challenge has one instead of parameters. */
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

export function parseWwwAuthenticate(header: string): Challenge[] {
  const s = header;
  let i = 0;
  const ws = () => {
    while (s[i] === ' ' || s[i] === '\t') i++;
  };
  const token = () => {
    const start = i;
    while (i < s.length && TCHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  /** Is a `name =` next? Otherwise what follows a comma is the next challenge. */
  const paramAhead = () => {
    const save = i;
    const ok = token() !== '' && (ws(), s[i] === '=');
    i = save;
    return ok;
  };
  const value = () => {
    if (s[i] !== '"') {
      // Tokens per the RFC; registries also send unquoted URLs, so take anything up to a separator.
      const start = i;
      while (i < s.length && s[i] !== ',' && s[i] !== ' ' && s[i] !== '\t') i++;
      return s.slice(start, i);
    }
    let out = '';
    for (i++; i < s.length && s[i] !== '"'; i++) {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      out += s[i];
    }
    i++; // the closing quote (or the end of an unterminated string)
    return out;
  };

  const out: Challenge[] = [];
  while (i < s.length) {
    while (s[i] === ',' || s[i] === ' ' || s[i] === '\t') i++;
    const scheme = token();
    if (!scheme) {
      // Not a challenge: skip to the next list element rather than give up on the rest.
      while (i < s.length && s[i] !== ',') i++;
      continue;
    }
    const ch: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(ch);
    ws();
    // token68 (`abc==`) and a parameter (`realm=x`) both start alike: token68 is what ends the element.
    const t68 = TOKEN68.exec(s.slice(i));
    if (t68 && /^[ \t]*(,|$)/.test(s.slice(i + t68[0].length))) {
      ch.token68 = t68[0];
      i += t68[0].length;
      continue;
    }
    while (paramAhead()) {
      const name = token().toLowerCase();
      ws();
      i++; // '='
      ws();
      ch.params[name] = value();
      ws();
      if (s[i] !== ',') break;
      // A comma ends this parameter; the next element is a parameter or another challenge.
      while (s[i] === ',' || s[i] === ' ' || s[i] === '\t') i++;
    }
  }
  return out;
}
