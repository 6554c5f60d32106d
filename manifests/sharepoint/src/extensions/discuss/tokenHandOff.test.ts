/// <reference types="heft-jest" />
import { answerPanel, isPlazaApi, type IHandOff, type ITokenProvider } from './tokenHandOff';

const PLAZA: string = 'https://plaza.contoso.com';
const API: string = 'api://plaza.contoso.com/6731de76-14a6-49ae-97bc-6eba6914391e';

interface IPosted {
  message: unknown;
  targetOrigin: string;
}

/** A real (jsdom) iframe whose outgoing messages are recorded instead of delivered. */
function frameRecording(): { frame: HTMLIFrameElement; posted: IPosted[] } {
  const frame: HTMLIFrameElement = document.createElement('iframe');
  document.body.appendChild(frame);
  const posted: IPosted[] = [];
  jest
    .spyOn(frame.contentWindow!, 'postMessage')
    .mockImplementation((message: unknown, targetOrigin?: unknown) => {
      posted.push({ message, targetOrigin: String(targetOrigin) });
    });
  return { frame, posted };
}

/** SPFx's token provider, asked for which resources. */
function provider(result: Promise<string>): { asked: string[]; factory: () => Promise<ITokenProvider> } {
  const asked: string[] = [];
  const tokens: ITokenProvider = {
    getToken: (resource: string) => {
      asked.push(resource);
      return result;
    }
  };
  return { asked, factory: () => Promise.resolve(tokens) };
}

function say(source: MessageEventInit['source'], origin: string, data: unknown): void {
  window.dispatchEvent(new MessageEvent('message', { source, origin, data }));
}

/** Lets the token provider's promises settle. */
function settled(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

describe('answerPanel', () => {
  let stop: () => void = () => undefined;
  afterEach(() => {
    stop();
    document.body.replaceChildren();
    jest.restoreAllMocks();
  });

  function start(frame: HTMLIFrameElement, factory: IHandOff['tokenProvider'], failures: unknown[]): void {
    stop = answerPanel(window, {
      frame,
      plazaOrigin: PLAZA,
      resource: API,
      tokenProvider: factory,
      onFailure: (error: unknown) => failures.push(error)
    });
  }

  it("answers Plaza's frame with a token for Plaza's API, at Plaza's origin only", async () => {
    const { frame, posted } = frameRecording();
    const tokens = provider(Promise.resolve('eyJ0eXAi.token'));
    const failures: unknown[] = [];
    start(frame, tokens.factory, failures);
    say(frame.contentWindow, PLAZA, { type: 'plaza.ready' });
    await settled();
    expect(tokens.asked).toEqual([API]);
    expect(posted).toEqual([
      { message: { type: 'plaza.token', token: 'eyJ0eXAi.token' }, targetOrigin: PLAZA }
    ]);
    expect(failures).toEqual([]);
  });

  it('ignores other origins, other windows and other messages', async () => {
    const { frame, posted } = frameRecording();
    const other = frameRecording();
    const tokens = provider(Promise.resolve('eyJ0eXAi.token'));
    start(frame, tokens.factory, []);
    say(frame.contentWindow, 'https://evil.example', { type: 'plaza.ready' });
    say(frame.contentWindow, 'https://plaza.contoso.com.evil.example', { type: 'plaza.ready' });
    say(frame.contentWindow, 'http://plaza.contoso.com', { type: 'plaza.ready' });
    say(other.frame.contentWindow, PLAZA, { type: 'plaza.ready' });
    say(window, PLAZA, { type: 'plaza.ready' });
    say(null, PLAZA, { type: 'plaza.ready' });
    say(frame.contentWindow, PLAZA, { type: 'plaza.token', token: 'x' });
    say(frame.contentWindow, PLAZA, 'plaza.ready');
    say(frame.contentWindow, PLAZA, null);
    await settled();
    expect(tokens.asked).toEqual([]);
    expect(posted).toEqual([]);
    expect(other.posted).toEqual([]);
  });

  it('stops answering once stopped (the dialog closed)', async () => {
    const { frame, posted } = frameRecording();
    const tokens = provider(Promise.resolve('eyJ0eXAi.token'));
    start(frame, tokens.factory, []);
    stop();
    say(frame.contentWindow, PLAZA, { type: 'plaza.ready' });
    await settled();
    expect(tokens.asked).toEqual([]);
    expect(posted).toEqual([]);
  });

  it('says so when SharePoint gives no token, and tells the panel', async () => {
    const { frame, posted } = frameRecording();
    const refused: Error = new Error('AADSTS65001: consent required');
    const tokens = provider(Promise.reject(refused));
    const failures: unknown[] = [];
    start(frame, tokens.factory, failures);
    say(frame.contentWindow, PLAZA, { type: 'plaza.ready' });
    await settled();
    expect(failures).toEqual([refused]);
    expect(posted).toEqual([{ message: { type: 'plaza.token', token: '' }, targetOrigin: PLAZA }]);
  });
});

describe('isPlazaApi', () => {
  it("accepts only api://{host}/{client id}", () => {
    expect(isPlazaApi(API)).toBe(true);
    expect(isPlazaApi('api://localhost:5000/6731de76-14a6-49ae-97bc-6eba6914391e')).toBe(true);
    expect(isPlazaApi('__PLAZA_API__')).toBe(false);
    expect(isPlazaApi('https://plaza.contoso.com/6731de76-14a6-49ae-97bc-6eba6914391e')).toBe(false);
    expect(isPlazaApi('api://plaza.contoso.com/')).toBe(false);
    expect(isPlazaApi(undefined)).toBe(false);
  });
});
