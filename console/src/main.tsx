import { render } from 'preact';
import { useState } from 'preact/hooks';
import { graphql, request, ok } from './api';
import { dictionaries, type Lang } from './i18n';
import { Session, type SessionState } from './session';
import { PickupDesk } from './pickup';
import { ReturnsDesk } from './returns';
import { StockView } from './stock';
import { TillView } from './till';
import { ErrorBox, useAction } from './ui';
import './style.css';

const SIGN_IN = graphql(`
  mutation SignIn($i: StaffSignInInput!) {
    staffSignIn(input: $i) { token staffMember { id name role staffCode location { id code name latitude longitude } } userErrors { code field message } }
  }
`);
const SIGN_OUT = graphql(`mutation SignOut { signOut { userErrors { code message } } }`);

type Tab = 'pickup' | 'returns' | 'stock' | 'till';
const stored = (k: string) => localStorage.getItem(k);

function App() {
  const [lang, setLang] = useState<Lang>((stored('uc.lang') as Lang) ?? 'en');
  const [session, setSession] = useState<SessionState | null>(() => Session.load());
  const [tab, setTab] = useState<Tab>((stored('uc.tab') as Tab) ?? 'pickup');
  const t = dictionaries[lang];
  document.documentElement.lang = lang;

  const chooseLang = (l: Lang) => {
    localStorage.setItem('uc.lang', l);
    setLang(l);
  };
  const chooseTab = (x: Tab) => {
    localStorage.setItem('uc.tab', x);
    setTab(x);
  };
  const signOut = async () => {
    if (session) await request(SIGN_OUT, {}, session.token).catch(() => undefined);
    Session.clear();
    setSession(null);
  };

  return (
    <div class="app">
      <header>
        <h1>{t.title}</h1>
        {session && (
          <p class="who" aria-live="polite">
            <strong>{session.staff.location.name}</strong> · {session.staff.name} ({session.staff.staffCode})
          </p>
        )}
        <label class="lang">
          {t.language}{' '}
          <select value={lang} onChange={(e) => chooseLang((e.target as HTMLSelectElement).value as Lang)}>
            <option value="en">English</option>
            <option value="es">Español</option>
          </select>
        </label>
        {session && (
          <button type="button" onClick={signOut}>
            {t.signOut}
          </button>
        )}
      </header>
      {!session ? (
        <SignIn t={t} onSignedIn={setSession} />
      ) : (
        <>
          <nav role="tablist" aria-label={t.title}>
            {(['pickup', 'returns', 'stock', 'till'] as Tab[]).map((x) => (
              <button type="button" role="tab" aria-selected={tab === x} class={tab === x ? 'active' : ''} onClick={() => chooseTab(x)}>
                {t[x]}
              </button>
            ))}
          </nav>
          <main>
            {tab === 'pickup' && <PickupDesk t={t} session={session} />}
            {tab === 'returns' && <ReturnsDesk t={t} session={session} lang={lang} />}
            {tab === 'stock' && <StockView t={t} session={session} />}
            {tab === 'till' && <TillView t={t} session={session} lang={lang} />}
          </main>
        </>
      )}
    </div>
  );
}

function SignIn({ t, onSignedIn }: { t: (typeof dictionaries)['en']; onSignedIn: (s: SessionState) => void }) {
  const [terminal, setTerminal] = useState(stored('uc.terminal') ?? '');
  const [staffCode, setStaffCode] = useState('');
  const [pin, setPin] = useState('');
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const r = ok((await request(SIGN_IN, { i: { staffCode, pin } }, terminal)).staffSignIn);
      localStorage.setItem('uc.terminal', terminal);
      const s = { terminal, token: r.token!, staff: r.staffMember! };
      Session.save(s);
      onSignedIn(s);
    });
  };
  return (
    <form class="card signin" onSubmit={submit}>
      <label>
        {t.terminalToken}
        <input name="terminal" value={terminal} onInput={(e) => setTerminal((e.target as HTMLInputElement).value)} required autoComplete="off" />
      </label>
      <label>
        {t.staffCode}
        <input name="staffCode" value={staffCode} onInput={(e) => setStaffCode((e.target as HTMLInputElement).value)} required autoComplete="username" />
      </label>
      <label>
        {t.pin}
        <input name="pin" type="password" inputMode="numeric" value={pin} onInput={(e) => setPin((e.target as HTMLInputElement).value)} required autoComplete="current-password" />
      </label>
      <button type="submit" disabled={action.busy}>
        {t.signIn}
      </button>
      <ErrorBox t={t} error={action.error} />
    </form>
  );
}

render(<App />, document.getElementById('app')!);
