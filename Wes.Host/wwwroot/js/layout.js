// The frame every page shares: navigation with the current page marked, and a sign-out when a token is kept.
import { token } from './api.js';
import { h } from './format.js';

export function frame(current) {
  const links = [['/', 'Runs'], ['/ui/submit', 'Submit'], ['/ui/service', 'Service'], ['/scalar', 'API']];
  const nav = h('nav', { 'aria-label': 'Main' },
    h('a', { href: '/', class: 'brand' }, 'WES'),
    h('ul', {}, links.map(([href, label]) =>
      h('li', {}, h('a', { href, 'aria-current': label === current ? 'page' : null }, label)))));
  const signOut = h('button', {
    type: 'button', class: 'link', hidden: !token.get(),
    onclick: () => { token.clear(); location.reload(); },
  }, 'Sign out');
  document.querySelector('header.top').replaceChildren(nav, signOut);
  addEventListener('wes-token', () => { signOut.hidden = !token.get(); });
}
