// Express 4, installed under an alias to test against both majors; its API is typed as Express's.
declare module 'express4' {
  import express from 'express';
  export default express;
}
