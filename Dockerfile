FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund --omit=dev
COPY . .
ENV NODE_ENV=production
ENTRYPOINT ["node_modules/.bin/tsx", "src/cli.ts"]
CMD ["api"]
