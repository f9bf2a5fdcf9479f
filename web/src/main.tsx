import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, session } from './api';
import { Backtests } from './views/backtests';
import { Collection } from './views/collection';
import { Market } from './views/market';
import { Overview } from './views/overview';
import { Runs } from './views/runs';
import { Signals } from './views/signals';

export interface Me { name: string; role: 'read' | 'operator' | 'trader' | 'admin' }
/** Operators (and admins) may press the buttons that change what runs; the server refuses anyone else anyway. */
export const canOperate = (me: Me) => me.role === 'operator' || me.role === 'admin';

const VIEWS = {
  overview: { title: 'Overview', view: Overview },
  market: { title: 'Market', view: Market },
  signals: { title: 'Signals and alerts', view: Signals },
  collection: { title: 'Collection health', view: Collection },
  runs: { title: 'Runs', view: Runs },
  backtests: { title: 'Backtests', view: Backtests },
} as const;
type ViewName = keyof typeof VIEWS;

const current = (): ViewName => {
  const name = location.hash.replace(/^#\//, '');
  return (name in VIEWS ? name : 'overview') as ViewName;
};

function Login({ error }: { error?: string }) {
  const [key, setKey] = useState('');
  return (
    <main class="login">
      <section>
        <h2>MTS dashboard</h2>
        <p class="muted">Enter an API key. It is kept only while this tab is open and sent as a bearer header.
          <code> npm start</code> writes an admin key to <code>data/dev-api-key</code>; <code>mts keys create --role read --name dashboard</code> makes a read-only one.</p>
        {error && <p class="error" role="alert">{error}</p>}
        <form onSubmit={(e) => { e.preventDefault(); if (key.trim()) session.signIn(key.trim()); }}>
          <label for="api-key" style={{ display: 'block' }}>API key</label>
          <input id="api-key" type="password" autocomplete="off" value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
          <button class="primary" type="submit">Sign in</button>
        </form>
      </section>
    </main>
  );
}

function App() {
  const [signedIn, setSignedIn] = useState(session.key !== null);
  const [me, setMe] = useState<Me>();
  const [error, setError] = useState<string>();
  const [view, setView] = useState<ViewName>(current());
  useEffect(() => session.onChange(() => {
    setSignedIn(session.key !== null);
    if (session.key === null) {
      setMe(undefined);
      setError('Signed out: the server refused the key (401). Enter a valid key.');
    }
  }), []);
  useEffect(() => {
    const onHash = () => setView(current());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    if (!signedIn) return;
    api<Me>('/me').then((m) => { setMe(m); setError(undefined); }, (e: Error) => setError(e.message));
  }, [signedIn]);
  if (!signedIn || !me) return <Login error={error} />;
  const View = VIEWS[view].view;
  return (
    <>
      <header>
        <h1>MTS</h1>
        <nav aria-label="Views">
          {Object.entries(VIEWS).map(([name, v]) => <a href={`#/${name}`} aria-current={name === view ? 'page' : undefined}>{v.title}</a>)}
        </nav>
        <span class="who">{me.name} ({me.role}) <button type="button" onClick={() => session.signOut()}>Sign out</button></span>
      </header>
      <main id={`view-${view}`}>
        <View me={me} />
      </main>
    </>
  );
}

const root = document.getElementById('app')!;
// The static page's loading note goes: Preact renders into an empty element.
root.textContent = '';
render(<App />, root);
