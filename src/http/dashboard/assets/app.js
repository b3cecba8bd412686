// The dashboard's entry point: login, hash routing (#/queues/%2F/orders), and one polling loop that
// samples /api/overview for the charts and refreshes whatever page is open.

import { Api, ApiError } from './lib/api.js';
import { h, replaceChildren } from './lib/dom.js';
import { History } from './lib/history.js';
import { createOverviewView } from './views/overview.js';
import { createConnectionsView } from './views/connections.js';
import { createChannelsView } from './views/channels.js';
import { createExchangesView } from './views/exchanges.js';
import { createExchangeView } from './views/exchange.js';
import { createQueuesView } from './views/queues.js';
import { createQueueView } from './views/queue.js';
import { createAdminView } from './views/admin.js';
import { createLinksView } from './views/links.js';
import { createJobsView } from './views/jobs.js';
import { createPushView } from './views/push.js';

/** [pattern over the hash path, nav section, view factory given the decoded captures]. */
const ROUTES = [
  [/^$/, 'overview', (ctx) => createOverviewView(ctx)],
  [/^connections$/, 'connections', (ctx) => createConnectionsView(ctx)],
  [/^channels$/, 'channels', (ctx) => createChannelsView(ctx)],
  [/^exchanges$/, 'exchanges', (ctx) => createExchangesView(ctx)],
  [/^exchanges\/([^/]+)\/([^/]+)$/, 'exchanges', (ctx, vhost, name) => createExchangeView(ctx, vhost, name)],
  [/^queues$/, 'queues', (ctx) => createQueuesView(ctx)],
  [/^queues\/([^/]+)\/([^/]+)$/, 'queues', (ctx, vhost, name) => createQueueView(ctx, vhost, name)],
  [/^links$/, 'links', (ctx) => createLinksView(ctx)],
  [/^jobs$/, 'jobs', (ctx) => createJobsView(ctx)],
  [/^jobs\/([^/]+)\/([^/]+)$/, 'jobs', (ctx, vhost, queue) => createJobsView(ctx, vhost, queue)],
  [/^push$/, 'push', (ctx) => createPushView(ctx)],
  [/^admin$/, 'admin', (ctx) => createAdminView(ctx)],
];

const $ = (id) => document.getElementById(id);
const MAX_NOTICES = 3;

class Dashboard {
  constructor() {
    this.api = new Api();
    this.history = new History();
    this.view = undefined;
    this.timer = undefined;
    this.running = undefined;
    this.again = false;
    this.ctx = {
      api: this.api,
      user: undefined,
      overview: undefined,
      history: this.history,
      notify: (text, kind) => this.notify(text, kind),
      refreshNow: () => this.tick(),
      fail: (error) => this.fail(error),
      get isAdmin() {
        return this.user?.tags.includes('administrator') ?? false;
      },
    };
  }

  async start() {
    $('login-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.login();
    });
    $('logout').addEventListener('click', () => this.logout());
    $('refresh-interval').addEventListener('change', () => this.tick());
    window.addEventListener('hashchange', () => this.route());
    if (!this.api.loggedIn) return this.showLogin();
    try {
      this.ctx.user = await this.api.get('/api/whoami');
    } catch (error) {
      return this.showLogin(error instanceof ApiError && error.status === 401 ? undefined : error.message);
    }
    this.showApp();
  }

  async login() {
    const user = $('login-user').value;
    this.api.login(user, $('login-password').value);
    try {
      this.ctx.user = await this.api.get('/api/whoami');
    } catch (error) {
      this.api.logout();
      return this.showLogin(error instanceof ApiError && error.status === 401 ? `Login failed: ${error.message}` : error.message);
    }
    $('login-password').value = '';
    this.showApp();
  }

  logout() {
    this.api.logout();
    this.ctx.user = undefined;
    this.showLogin('You are logged out.');
  }

  showLogin(message) {
    clearTimeout(this.timer);
    this.view?.dispose?.();
    this.view = undefined;
    replaceChildren($('view'));
    $('nav').hidden = true;
    $('session').hidden = true;
    $('login').hidden = false;
    $('login-error').hidden = message === undefined;
    $('login-error').textContent = message ?? '';
    $('login-user').focus();
  }

  showApp() {
    $('login').hidden = true;
    $('nav').hidden = false;
    $('session').hidden = false;
    $('nav-admin').parentElement.hidden = !this.ctx.isAdmin;
    $('whoami').textContent = `${this.ctx.user.name} (${this.ctx.user.tags.join(', ') || 'no tags'})`;
    this.route();
  }

  route() {
    if (this.ctx.user === undefined) return;
    const path = location.hash.replace(/^#\/?/, '');
    let section = 'overview';
    let factory = (ctx) => notFound(ctx, path);
    for (const [pattern, name, create] of ROUTES) {
      const match = pattern.exec(path);
      if (match === null) continue;
      const args = match.slice(1).map(decodeURIComponent);
      section = name;
      factory = (ctx) => create(ctx, ...args);
      break;
    }
    this.view?.dispose?.();
    this.view = factory(this.ctx);
    replaceChildren($('view'), this.view.element);
    for (const link of document.querySelectorAll('#nav a')) {
      if (link.dataset.section === section) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    document.title = `${this.view.title} · Warren`;
    void this.tick();
  }

  /** One poll; calls while one runs are folded into a single follow-up poll. */
  async tick() {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    clearTimeout(this.timer);
    this.running = this.poll();
    try {
      await this.running;
    } finally {
      this.running = undefined;
    }
    if (this.again) {
      this.again = false;
      return this.tick();
    }
    this.schedule();
  }

  async poll() {
    try {
      const overview = await this.api.get('/api/overview');
      this.ctx.overview = overview;
      this.history.add(Date.now(), sampleOf(overview));
      $('footer').textContent = `${overview.product_name ?? 'Warren'} ${overview.product_version ?? ''} · node ${overview.node} · updated ${new Date().toLocaleTimeString('en-GB')}`;
      await this.view?.refresh();
    } catch (error) {
      this.fail(error);
    }
  }

  schedule() {
    const interval = Number($('refresh-interval').value);
    if (interval > 0 && this.ctx.user !== undefined) this.timer = setTimeout(() => void this.tick(), interval);
  }

  /** 401 means the credentials stopped working (user deleted, password changed): log in again. */
  fail(error) {
    if (error instanceof ApiError && error.status === 401 && this.ctx.user !== undefined) {
      this.api.logout();
      this.ctx.user = undefined;
      this.showLogin(`Please log in again (${error.message}).`);
      return;
    }
    this.notify(error.message, 'error');
  }

  notify(text, kind = 'info') {
    const notice = h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : undefined }, text, h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss', onclick: () => notice.remove() }, '×'));
    const notices = $('notices');
    notices.append(notice);
    // Only the latest few stay, so notices never hide the page they report on.
    while (notices.childElementCount > MAX_NOTICES) notices.firstElementChild.remove();
    setTimeout(() => notice.remove(), kind === 'error' ? 10_000 : 4_000);
  }
}

function sampleOf(overview) {
  const stats = overview.message_stats ?? {};
  const totals = overview.queue_totals ?? {};
  return {
    publish: stats.publish ?? 0,
    deliver_get: stats.deliver_get ?? 0,
    ack: stats.ack ?? 0,
    ready: totals.messages_ready ?? 0,
    unacked: totals.messages_unacknowledged ?? 0,
  };
}

function notFound(_ctx, path) {
  return {
    title: 'Not found',
    element: h('section', {}, h('h1', {}, 'Page not found'), h('p', {}, `Nothing lives at #/${path}. `, h('a', { href: '#/' }, 'Back to the overview'), '.')),
    refresh: async () => {},
  };
}

void new Dashboard().start();
