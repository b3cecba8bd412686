// Admin (administrators only): users, virtual hosts and who may do what where.

import { seg } from '../lib/api.js';
import { field, h, onSubmit, panel, select, setOptions } from '../lib/dom.js';
import { count } from '../lib/format.js';
import { createTable } from '../lib/table.js';
import { act } from './common.js';

const TAGS = ['administrator', 'monitoring', 'policymaker', 'management', 'impersonator'];

export function createAdminView(ctx) {
  if (!ctx.isAdmin) {
    return {
      title: 'Admin',
      element: h('section', { class: 'view' }, h('h1', {}, 'Admin'), h('p', {}, 'Only users tagged administrator can manage users, virtual hosts and permissions.')),
      refresh: async () => {},
    };
  }
  const deleteButton = (label, confirmText, path, done) =>
    h('button', { type: 'button', class: 'small danger', 'aria-label': label, onclick: () => window.confirm(confirmText) && act(ctx, () => ctx.api.delete(path), done) }, 'Delete');

  const users = createTable(
    [
      { id: 'name', label: 'Name', value: (u) => u.name },
      { id: 'tags', label: 'Tags', value: (u) => u.tags.join(', ') },
      { id: 'password', label: 'Can log in with a password', value: (u) => (u.password_hash === '' ? 'no' : 'yes') },
      {
        id: 'action',
        label: 'Action',
        value: () => '',
        sortable: false,
        cell: (u) => (u.name === ctx.user.name ? h('small', {}, 'you') : deleteButton(`Delete user ${u.name}`, `Delete user "${u.name}"?`, `/api/users/${seg(u.name)}`, `User ${u.name} deleted.`)),
      },
    ],
    { caption: 'Users', filterLabel: 'Filter users', empty: 'No users.' },
  );
  const vhosts = createTable(
    [
      { id: 'name', label: 'Name', value: (v) => v.name },
      { id: 'ready', label: 'Ready', value: (v) => v.messages_ready, cell: (v) => count(v.messages_ready), numeric: true },
      { id: 'unacked', label: 'Unacked', value: (v) => v.messages_unacknowledged, cell: (v) => count(v.messages_unacknowledged), numeric: true },
      { id: 'action', label: 'Action', value: () => '', sortable: false, cell: (v) => deleteButton(`Delete virtual host ${v.name}`, `Delete virtual host "${v.name}" with all its exchanges, queues and messages?`, `/api/vhosts/${seg(v.name)}`, `Virtual host ${v.name} deleted.`) },
    ],
    { caption: 'Virtual hosts', empty: 'No virtual hosts.' },
  );
  const permissions = createTable(
    [
      { id: 'user', label: 'User', value: (p) => p.user },
      { id: 'vhost', label: 'Virtual host', value: (p) => p.vhost },
      { id: 'configure', label: 'Configure', value: (p) => p.configure, cell: (p) => h('code', {}, p.configure) },
      { id: 'write', label: 'Write', value: (p) => p.write, cell: (p) => h('code', {}, p.write) },
      { id: 'read', label: 'Read', value: (p) => p.read, cell: (p) => h('code', {}, p.read) },
      {
        id: 'action',
        label: 'Action',
        value: () => '',
        sortable: false,
        cell: (p) =>
          h('button', { type: 'button', class: 'small secondary', 'aria-label': `Clear permissions of ${p.user} on ${p.vhost}`, onclick: () => act(ctx, () => ctx.api.delete(`/api/permissions/${seg(p.vhost)}/${seg(p.user)}`), `Permissions of ${p.user} on ${p.vhost} cleared.`) }, 'Clear'),
      },
    ],
    { caption: 'Permissions', filterLabel: 'Filter by user', filterValue: (p) => p.user, empty: 'No permissions granted.' },
  );

  const addUser = onSubmit(
    h(
      'form',
      { class: 'inline-form', 'aria-label': 'Add a user' },
      field('Username', h('input', { name: 'name', required: true, autocomplete: 'off' })),
      field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'new-password' })),
      field('Tags', h('input', { name: 'tags', list: 'warren-tags', placeholder: 'management' }), 'Comma-separated: administrator, monitoring, policymaker, management.'),
      h('datalist', { id: 'warren-tags' }, TAGS.map((t) => h('option', { value: t }))),
      h('button', { type: 'submit' }, 'Add user'),
    ),
    async (data) => {
      const name = String(data.get('name'));
      const body = { password: String(data.get('password')), tags: String(data.get('tags')) };
      if (await act(ctx, () => ctx.api.put(`/api/users/${seg(name)}`, body), `User ${name} saved.`)) addUser.reset();
    },
  );
  const addVhost = onSubmit(
    h('form', { class: 'inline-form', 'aria-label': 'Add a virtual host' }, field('Name', h('input', { name: 'name', required: true })), h('button', { type: 'submit' }, 'Add virtual host')),
    async (data) => {
      const name = String(data.get('name'));
      if (await act(ctx, () => ctx.api.put(`/api/vhosts/${seg(name)}`, {}), `Virtual host ${name} added.`)) addVhost.reset();
    },
  );
  const userChoice = select('user', []);
  const vhostChoice = select('vhost', []);
  const setPermission = onSubmit(
    h(
      'form',
      { class: 'inline-form', 'aria-label': 'Set permission' },
      field('User', userChoice),
      field('Virtual host', vhostChoice),
      field('Configure regexp', h('input', { name: 'configure', value: '.*' })),
      field('Write regexp', h('input', { name: 'write', value: '.*' })),
      field('Read regexp', h('input', { name: 'read', value: '.*' })),
      h('button', { type: 'submit' }, 'Set permission'),
    ),
    async (data) => {
      const user = String(data.get('user'));
      const vhost = String(data.get('vhost'));
      const body = { configure: String(data.get('configure')), write: String(data.get('write')), read: String(data.get('read')) };
      await act(ctx, () => ctx.api.put(`/api/permissions/${seg(vhost)}/${seg(user)}`, body), `Permissions of ${user} on ${vhost} set.`);
    },
  );

  const element = h(
    'section',
    { class: 'view' },
    h('h1', {}, 'Admin'),
    panel('Users', users.element, h('h3', {}, 'Add or update a user'), addUser),
    panel('Permissions', permissions.element, h('h3', {}, 'Set permission'), setPermission),
    panel('Virtual hosts', vhosts.element, h('h3', {}, 'Add a virtual host'), addVhost),
  );

  async function refresh() {
    const [userRows, vhostRows, permissionRows] = await Promise.all([ctx.api.get('/api/users'), ctx.api.get('/api/vhosts'), ctx.api.get('/api/permissions')]);
    users.update(userRows);
    vhosts.update(vhostRows);
    permissions.update(permissionRows);
    setOptions(userChoice, userRows.map((u) => u.name).sort());
    setOptions(vhostChoice, vhostRows.map((v) => v.name).sort());
  }

  return { title: 'Admin', element, refresh };
}
